// Original file: proto/credvault/v1/credvault.proto

import type { Provider as _credvault_v1_Provider, Provider__Output as _credvault_v1_Provider__Output } from '../../credvault/v1/Provider';

export interface ListProvidersResponse {
  'providers'?: (_credvault_v1_Provider)[];
}

export interface ListProvidersResponse__Output {
  'providers': (_credvault_v1_Provider__Output)[];
}
