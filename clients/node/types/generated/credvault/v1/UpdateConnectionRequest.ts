// Original file: proto/credvault/v1/credvault.proto

import type { FieldMask as _google_protobuf_FieldMask, FieldMask__Output as _google_protobuf_FieldMask__Output } from '../../google/protobuf/FieldMask';

export interface UpdateConnectionRequest {
  'tenant_id'?: (string);
  'connection_id'?: (string);
  'credentials'?: ({[key: string]: string});
  'config'?: ({[key: string]: string});
  'labels'?: ({[key: string]: string});
  'update_mask'?: (_google_protobuf_FieldMask | null);
}

export interface UpdateConnectionRequest__Output {
  'tenant_id': (string);
  'connection_id': (string);
  'credentials': ({[key: string]: string});
  'config': ({[key: string]: string});
  'labels': ({[key: string]: string});
  'update_mask': (_google_protobuf_FieldMask__Output | null);
}
