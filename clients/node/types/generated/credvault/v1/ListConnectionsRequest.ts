// Original file: proto/credvault/v1/credvault.proto


export interface ListConnectionsRequest {
  'tenant_id'?: (string);
  'provider'?: (string);
  'page_size'?: (number);
  'page_token'?: (string);
}

export interface ListConnectionsRequest__Output {
  'tenant_id': (string);
  'provider': (string);
  'page_size': (number);
  'page_token': (string);
}
