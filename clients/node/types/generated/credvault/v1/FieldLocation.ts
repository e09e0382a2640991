// Original file: proto/credvault/v1/credvault.proto

export const FieldLocation = {
  FIELD_LOCATION_UNSPECIFIED: 'FIELD_LOCATION_UNSPECIFIED',
  FIELD_LOCATION_CREDENTIALS: 'FIELD_LOCATION_CREDENTIALS',
  FIELD_LOCATION_CONFIG: 'FIELD_LOCATION_CONFIG',
} as const;

export type FieldLocation =
  | 'FIELD_LOCATION_UNSPECIFIED'
  | 0
  | 'FIELD_LOCATION_CREDENTIALS'
  | 1
  | 'FIELD_LOCATION_CONFIG'
  | 2

export type FieldLocation__Output = typeof FieldLocation[keyof typeof FieldLocation]
