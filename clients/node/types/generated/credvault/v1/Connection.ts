// Original file: proto/credvault/v1/credvault.proto

import type { ConnectionStatus as _credvault_v1_ConnectionStatus, ConnectionStatus__Output as _credvault_v1_ConnectionStatus__Output } from '../../credvault/v1/ConnectionStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { VerificationOutcome as _credvault_v1_VerificationOutcome, VerificationOutcome__Output as _credvault_v1_VerificationOutcome__Output } from '../../credvault/v1/VerificationOutcome';

export interface Connection {
  'tenant_id'?: (string);
  'connection_id'?: (string);
  'provider'?: (string);
  'config'?: ({[key: string]: string});
  'labels'?: ({[key: string]: string});
  'status'?: (_credvault_v1_ConnectionStatus);
  'created_at'?: (_google_protobuf_Timestamp | null);
  'updated_at'?: (_google_protobuf_Timestamp | null);
  'last_verified_at'?: (_google_protobuf_Timestamp | null);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'last_outcome'?: (_credvault_v1_VerificationOutcome | null);
  'next_check_at'?: (_google_protobuf_Timestamp | null);
}

export interface Connection__Output {
  'tenant_id': (string);
  'connection_id': (string);
  'provider': (string);
  'config': ({[key: string]: string});
  'labels': ({[key: string]: string});
  'status': (_credvault_v1_ConnectionStatus__Output);
  'created_at': (_google_protobuf_Timestamp__Output | null);
  'updated_at': (_google_protobuf_Timestamp__Output | null);
  'last_verified_at': (_google_protobuf_Timestamp__Output | null);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'last_outcome': (_credvault_v1_VerificationOutcome__Output | null);
  'next_check_at': (_google_protobuf_Timestamp__Output | null);
}
