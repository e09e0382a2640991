// Original file: proto/credvault/v1/credvault.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface GetAuthHeadersResponse {
  'headers'?: ({[key: string]: string});
  'base_url'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
}

export interface GetAuthHeadersResponse__Output {
  'headers': ({[key: string]: string});
  'base_url': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
}
