// Original file: proto/credvault/v1/credvault.proto


export interface CreateConnectionRequest {
  'tenant_id'?: (string);
  'connection_id'?: (string);
  'provider'?: (string);
  'credentials'?: ({[key: string]: string});
  'config'?: ({[key: string]: string});
  'labels'?: ({[key: string]: string});
}

export interface CreateConnectionRequest__Output {
  'tenant_id': (string);
  'connection_id': (string);
  'provider': (string);
  'credentials': ({[key: string]: string});
  'config': ({[key: string]: string});
  'labels': ({[key: string]: string});
}
