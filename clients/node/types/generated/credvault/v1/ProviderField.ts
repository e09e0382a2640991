// Original file: proto/credvault/v1/credvault.proto

import type { FieldLocation as _credvault_v1_FieldLocation, FieldLocation__Output as _credvault_v1_FieldLocation__Output } from '../../credvault/v1/FieldLocation';

export interface ProviderField {
  'name'?: (string);
  'label'?: (string);
  'description'?: (string);
  'secret'?: (boolean);
  'required'?: (boolean);
  'pattern'?: (string);
  'example'?: (string);
  'location'?: (_credvault_v1_FieldLocation);
  'placeholder'?: (string);
  'help_text'?: (string);
}

export interface ProviderField__Output {
  'name': (string);
  'label': (string);
  'description': (string);
  'secret': (boolean);
  'required': (boolean);
  'pattern': (string);
  'example': (string);
  'location': (_credvault_v1_FieldLocation__Output);
  'placeholder': (string);
  'help_text': (string);
}
