// Original file: proto/google/rpc/error_details.proto


export interface RequestInfo {
  'request_id'?: (string);
  'serving_data'?: (string);
}

export interface RequestInfo__Output {
  'request_id': (string);
  'serving_data': (string);
}
