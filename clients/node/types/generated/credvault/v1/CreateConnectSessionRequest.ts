// Original file: proto/credvault/v1/credvault.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

export interface CreateConnectSessionRequest {
  'tenant_id'?: (string);
  'providers'?: (string)[];
  'connection_id'?: (string);
  'labels'?: ({[key: string]: string});
  'return_url'?: (string);
  'ttl'?: (_google_protobuf_Duration | null);
}

export interface CreateConnectSessionRequest__Output {
  'tenant_id': (string);
  'providers': (string)[];
  'connection_id': (string);
  'labels': ({[key: string]: string});
  'return_url': (string);
  'ttl': (_google_protobuf_Duration__Output | null);
}
