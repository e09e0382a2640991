// Original file: proto/credvault/v1/credvault.proto


export interface GetAuthHeadersRequest {
  'tenant_id'?: (string);
  'connection_id'?: (string);
}

export interface GetAuthHeadersRequest__Output {
  'tenant_id': (string);
  'connection_id': (string);
}
