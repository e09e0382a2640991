// Original file: proto/credvault/v1/credvault.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface VerificationOutcome {
  'ok'?: (boolean);
  'reason'?: (string);
  'provider_http_status'?: (number);
  'hint'?: (string);
  'checked_at'?: (_google_protobuf_Timestamp | null);
}

export interface VerificationOutcome__Output {
  'ok': (boolean);
  'reason': (string);
  'provider_http_status': (number);
  'hint': (string);
  'checked_at': (_google_protobuf_Timestamp__Output | null);
}
