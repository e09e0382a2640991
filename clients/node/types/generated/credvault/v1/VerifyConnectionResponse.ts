// Original file: proto/credvault/v1/credvault.proto

import type { Connection as _credvault_v1_Connection, Connection__Output as _credvault_v1_Connection__Output } from '../../credvault/v1/Connection';
import type { VerificationOutcome as _credvault_v1_VerificationOutcome, VerificationOutcome__Output as _credvault_v1_VerificationOutcome__Output } from '../../credvault/v1/VerificationOutcome';

export interface VerifyConnectionResponse {
  'connection'?: (_credvault_v1_Connection | null);
  'outcome'?: (_credvault_v1_VerificationOutcome | null);
}

export interface VerifyConnectionResponse__Output {
  'connection': (_credvault_v1_Connection__Output | null);
  'outcome': (_credvault_v1_VerificationOutcome__Output | null);
}
