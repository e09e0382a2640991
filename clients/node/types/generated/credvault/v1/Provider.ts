// Original file: proto/credvault/v1/credvault.proto

import type { ProviderField as _credvault_v1_ProviderField, ProviderField__Output as _credvault_v1_ProviderField__Output } from '../../credvault/v1/ProviderField';

export interface Provider {
  'id'?: (string);
  'display_name'?: (string);
  'auth_mode'?: (string);
  'docs_url'?: (string);
  'fields'?: (_credvault_v1_ProviderField)[];
  'base_url_template'?: (string);
  'setup_steps'?: (string)[];
  'warnings'?: (string)[];
}

export interface Provider__Output {
  'id': (string);
  'display_name': (string);
  'auth_mode': (string);
  'docs_url': (string);
  'fields': (_credvault_v1_ProviderField__Output)[];
  'base_url_template': (string);
  'setup_steps': (string)[];
  'warnings': (string)[];
}
