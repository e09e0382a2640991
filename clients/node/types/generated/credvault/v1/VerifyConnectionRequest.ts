// Original file: proto/credvault/v1/credvault.proto


export interface VerifyConnectionRequest {
  'tenant_id'?: (string);
  'connection_id'?: (string);
}

export interface VerifyConnectionRequest__Output {
  'tenant_id': (string);
  'connection_id': (string);
}
