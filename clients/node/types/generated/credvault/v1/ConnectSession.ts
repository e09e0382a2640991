// Original file: proto/credvault/v1/credvault.proto

import type { ConnectSessionState as _credvault_v1_ConnectSessionState, ConnectSessionState__Output as _credvault_v1_ConnectSessionState__Output } from '../../credvault/v1/ConnectSessionState';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ConnectSession {
  'session_id'?: (string);
  'connect_url'?: (string);
  'tenant_id'?: (string);
  'providers'?: (string)[];
  'connection_id'?: (string);
  'state'?: (_credvault_v1_ConnectSessionState);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'created_at'?: (_google_protobuf_Timestamp | null);
}

export interface ConnectSession__Output {
  'session_id': (string);
  'connect_url': (string);
  'tenant_id': (string);
  'providers': (string)[];
  'connection_id': (string);
  'state': (_credvault_v1_ConnectSessionState__Output);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'created_at': (_google_protobuf_Timestamp__Output | null);
}
