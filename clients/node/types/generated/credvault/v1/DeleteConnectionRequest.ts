// Original file: proto/credvault/v1/credvault.proto


export interface DeleteConnectionRequest {
  'tenant_id'?: (string);
  'connection_id'?: (string);
  'allow_missing'?: (boolean);
}

export interface DeleteConnectionRequest__Output {
  'tenant_id': (string);
  'connection_id': (string);
  'allow_missing': (boolean);
}
