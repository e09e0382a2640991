// Original file: proto/credvault/v1/credvault.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

export interface GetAuthHeadersResponse {
  'headers'?: ({[key: string]: string});
  'base_url'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'query_params'?: ({[key: string]: string});
  'cache_ttl'?: (_google_protobuf_Duration | null);
}

export interface GetAuthHeadersResponse__Output {
  'headers': ({[key: string]: string});
  'base_url': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'query_params': ({[key: string]: string});
  'cache_ttl': (_google_protobuf_Duration__Output | null);
}
