// Original file: proto/credvault/v1/credvault.proto

import type { ConnectionEventType as _credvault_v1_ConnectionEventType, ConnectionEventType__Output as _credvault_v1_ConnectionEventType__Output } from '../../credvault/v1/ConnectionEventType';
import type { ConnectionStatus as _credvault_v1_ConnectionStatus, ConnectionStatus__Output as _credvault_v1_ConnectionStatus__Output } from '../../credvault/v1/ConnectionStatus';
import type { VerificationOutcome as _credvault_v1_VerificationOutcome, VerificationOutcome__Output as _credvault_v1_VerificationOutcome__Output } from '../../credvault/v1/VerificationOutcome';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ConnectionEvent {
  'event_id'?: (string);
  'cursor'?: (string);
  'type'?: (_credvault_v1_ConnectionEventType);
  'tenant_id'?: (string);
  'connection_id'?: (string);
  'provider'?: (string);
  'status'?: (_credvault_v1_ConnectionStatus);
  'outcome'?: (_credvault_v1_VerificationOutcome | null);
  'occurred_at'?: (_google_protobuf_Timestamp | null);
  'connect_session_id'?: (string);
}

export interface ConnectionEvent__Output {
  'event_id': (string);
  'cursor': (string);
  'type': (_credvault_v1_ConnectionEventType__Output);
  'tenant_id': (string);
  'connection_id': (string);
  'provider': (string);
  'status': (_credvault_v1_ConnectionStatus__Output);
  'outcome': (_credvault_v1_VerificationOutcome__Output | null);
  'occurred_at': (_google_protobuf_Timestamp__Output | null);
  'connect_session_id': (string);
}
