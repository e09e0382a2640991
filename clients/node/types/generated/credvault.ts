import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ConnectSession as _credvault_v1_ConnectSession, ConnectSession__Output as _credvault_v1_ConnectSession__Output } from './credvault/v1/ConnectSession';
import type { Connection as _credvault_v1_Connection, Connection__Output as _credvault_v1_Connection__Output } from './credvault/v1/Connection';
import type { ConnectionEvent as _credvault_v1_ConnectionEvent, ConnectionEvent__Output as _credvault_v1_ConnectionEvent__Output } from './credvault/v1/ConnectionEvent';
import type { CreateConnectSessionRequest as _credvault_v1_CreateConnectSessionRequest, CreateConnectSessionRequest__Output as _credvault_v1_CreateConnectSessionRequest__Output } from './credvault/v1/CreateConnectSessionRequest';
import type { CreateConnectionRequest as _credvault_v1_CreateConnectionRequest, CreateConnectionRequest__Output as _credvault_v1_CreateConnectionRequest__Output } from './credvault/v1/CreateConnectionRequest';
import type { CredentialVaultClient as _credvault_v1_CredentialVaultClient, CredentialVaultDefinition as _credvault_v1_CredentialVaultDefinition } from './credvault/v1/CredentialVault';
import type { DeleteConnectionRequest as _credvault_v1_DeleteConnectionRequest, DeleteConnectionRequest__Output as _credvault_v1_DeleteConnectionRequest__Output } from './credvault/v1/DeleteConnectionRequest';
import type { DeleteConnectionResponse as _credvault_v1_DeleteConnectionResponse, DeleteConnectionResponse__Output as _credvault_v1_DeleteConnectionResponse__Output } from './credvault/v1/DeleteConnectionResponse';
import type { GetAuthHeadersRequest as _credvault_v1_GetAuthHeadersRequest, GetAuthHeadersRequest__Output as _credvault_v1_GetAuthHeadersRequest__Output } from './credvault/v1/GetAuthHeadersRequest';
import type { GetAuthHeadersResponse as _credvault_v1_GetAuthHeadersResponse, GetAuthHeadersResponse__Output as _credvault_v1_GetAuthHeadersResponse__Output } from './credvault/v1/GetAuthHeadersResponse';
import type { GetConnectSessionRequest as _credvault_v1_GetConnectSessionRequest, GetConnectSessionRequest__Output as _credvault_v1_GetConnectSessionRequest__Output } from './credvault/v1/GetConnectSessionRequest';
import type { GetConnectionRequest as _credvault_v1_GetConnectionRequest, GetConnectionRequest__Output as _credvault_v1_GetConnectionRequest__Output } from './credvault/v1/GetConnectionRequest';
import type { ListConnectionsRequest as _credvault_v1_ListConnectionsRequest, ListConnectionsRequest__Output as _credvault_v1_ListConnectionsRequest__Output } from './credvault/v1/ListConnectionsRequest';
import type { ListConnectionsResponse as _credvault_v1_ListConnectionsResponse, ListConnectionsResponse__Output as _credvault_v1_ListConnectionsResponse__Output } from './credvault/v1/ListConnectionsResponse';
import type { ListProvidersRequest as _credvault_v1_ListProvidersRequest, ListProvidersRequest__Output as _credvault_v1_ListProvidersRequest__Output } from './credvault/v1/ListProvidersRequest';
import type { ListProvidersResponse as _credvault_v1_ListProvidersResponse, ListProvidersResponse__Output as _credvault_v1_ListProvidersResponse__Output } from './credvault/v1/ListProvidersResponse';
import type { Provider as _credvault_v1_Provider, Provider__Output as _credvault_v1_Provider__Output } from './credvault/v1/Provider';
import type { ProviderField as _credvault_v1_ProviderField, ProviderField__Output as _credvault_v1_ProviderField__Output } from './credvault/v1/ProviderField';
import type { UpdateConnectionRequest as _credvault_v1_UpdateConnectionRequest, UpdateConnectionRequest__Output as _credvault_v1_UpdateConnectionRequest__Output } from './credvault/v1/UpdateConnectionRequest';
import type { VerificationOutcome as _credvault_v1_VerificationOutcome, VerificationOutcome__Output as _credvault_v1_VerificationOutcome__Output } from './credvault/v1/VerificationOutcome';
import type { VerifyConnectionRequest as _credvault_v1_VerifyConnectionRequest, VerifyConnectionRequest__Output as _credvault_v1_VerifyConnectionRequest__Output } from './credvault/v1/VerifyConnectionRequest';
import type { VerifyConnectionResponse as _credvault_v1_VerifyConnectionResponse, VerifyConnectionResponse__Output as _credvault_v1_VerifyConnectionResponse__Output } from './credvault/v1/VerifyConnectionResponse';
import type { WatchConnectionEventsRequest as _credvault_v1_WatchConnectionEventsRequest, WatchConnectionEventsRequest__Output as _credvault_v1_WatchConnectionEventsRequest__Output } from './credvault/v1/WatchConnectionEventsRequest';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration';
import type { FieldMask as _google_protobuf_FieldMask, FieldMask__Output as _google_protobuf_FieldMask__Output } from './google/protobuf/FieldMask';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  credvault: {
    v1: {
      ConnectSession: MessageTypeDefinition<_credvault_v1_ConnectSession, _credvault_v1_ConnectSession__Output>
      ConnectSessionState: EnumTypeDefinition
      Connection: MessageTypeDefinition<_credvault_v1_Connection, _credvault_v1_Connection__Output>
      ConnectionEvent: MessageTypeDefinition<_credvault_v1_ConnectionEvent, _credvault_v1_ConnectionEvent__Output>
      ConnectionEventType: EnumTypeDefinition
      ConnectionStatus: EnumTypeDefinition
      CreateConnectSessionRequest: MessageTypeDefinition<_credvault_v1_CreateConnectSessionRequest, _credvault_v1_CreateConnectSessionRequest__Output>
      CreateConnectionRequest: MessageTypeDefinition<_credvault_v1_CreateConnectionRequest, _credvault_v1_CreateConnectionRequest__Output>
      CredentialVault: SubtypeConstructor<typeof grpc.Client, _credvault_v1_CredentialVaultClient> & { service: _credvault_v1_CredentialVaultDefinition }
      DeleteConnectionRequest: MessageTypeDefinition<_credvault_v1_DeleteConnectionRequest, _credvault_v1_DeleteConnectionRequest__Output>
      DeleteConnectionResponse: MessageTypeDefinition<_credvault_v1_DeleteConnectionResponse, _credvault_v1_DeleteConnectionResponse__Output>
      FieldLocation: EnumTypeDefinition
      GetAuthHeadersRequest: MessageTypeDefinition<_credvault_v1_GetAuthHeadersRequest, _credvault_v1_GetAuthHeadersRequest__Output>
      GetAuthHeadersResponse: MessageTypeDefinition<_credvault_v1_GetAuthHeadersResponse, _credvault_v1_GetAuthHeadersResponse__Output>
      GetConnectSessionRequest: MessageTypeDefinition<_credvault_v1_GetConnectSessionRequest, _credvault_v1_GetConnectSessionRequest__Output>
      GetConnectionRequest: MessageTypeDefinition<_credvault_v1_GetConnectionRequest, _credvault_v1_GetConnectionRequest__Output>
      ListConnectionsRequest: MessageTypeDefinition<_credvault_v1_ListConnectionsRequest, _credvault_v1_ListConnectionsRequest__Output>
      ListConnectionsResponse: MessageTypeDefinition<_credvault_v1_ListConnectionsResponse, _credvault_v1_ListConnectionsResponse__Output>
      ListProvidersRequest: MessageTypeDefinition<_credvault_v1_ListProvidersRequest, _credvault_v1_ListProvidersRequest__Output>
      ListProvidersResponse: MessageTypeDefinition<_credvault_v1_ListProvidersResponse, _credvault_v1_ListProvidersResponse__Output>
      Provider: MessageTypeDefinition<_credvault_v1_Provider, _credvault_v1_Provider__Output>
      ProviderField: MessageTypeDefinition<_credvault_v1_ProviderField, _credvault_v1_ProviderField__Output>
      UpdateConnectionRequest: MessageTypeDefinition<_credvault_v1_UpdateConnectionRequest, _credvault_v1_UpdateConnectionRequest__Output>
      VerificationOutcome: MessageTypeDefinition<_credvault_v1_VerificationOutcome, _credvault_v1_VerificationOutcome__Output>
      VerifyConnectionRequest: MessageTypeDefinition<_credvault_v1_VerifyConnectionRequest, _credvault_v1_VerifyConnectionRequest__Output>
      VerifyConnectionResponse: MessageTypeDefinition<_credvault_v1_VerifyConnectionResponse, _credvault_v1_VerifyConnectionResponse__Output>
      WatchConnectionEventsRequest: MessageTypeDefinition<_credvault_v1_WatchConnectionEventsRequest, _credvault_v1_WatchConnectionEventsRequest__Output>
    }
  }
  google: {
    protobuf: {
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
      FieldMask: MessageTypeDefinition<_google_protobuf_FieldMask, _google_protobuf_FieldMask__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

