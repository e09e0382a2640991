// Original file: proto/credvault/v1/credvault.proto


export interface GetConnectSessionRequest {
  'tenant_id'?: (string);
  'session_id'?: (string);
}

export interface GetConnectSessionRequest__Output {
  'tenant_id': (string);
  'session_id': (string);
}
