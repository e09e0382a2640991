// Original file: proto/credvault/v1/credvault.proto


export interface GetConnectionRequest {
  'tenant_id'?: (string);
  'connection_id'?: (string);
}

export interface GetConnectionRequest__Output {
  'tenant_id': (string);
  'connection_id': (string);
}
