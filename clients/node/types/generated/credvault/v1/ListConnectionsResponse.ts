// Original file: proto/credvault/v1/credvault.proto

import type { Connection as _credvault_v1_Connection, Connection__Output as _credvault_v1_Connection__Output } from '../../credvault/v1/Connection';

export interface ListConnectionsResponse {
  'connections'?: (_credvault_v1_Connection)[];
  'next_page_token'?: (string);
}

export interface ListConnectionsResponse__Output {
  'connections': (_credvault_v1_Connection__Output)[];
  'next_page_token': (string);
}
