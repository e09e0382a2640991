// Original file: proto/credvault/v1/credvault.proto


export interface WatchConnectionEventsRequest {
  'tenant_id'?: (string);
  'after'?: (string);
}

export interface WatchConnectionEventsRequest__Output {
  'tenant_id': (string);
  'after': (string);
}
