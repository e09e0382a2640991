// Original file: proto/credvault/v1/credvault.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ConnectSession as _credvault_v1_ConnectSession, ConnectSession__Output as _credvault_v1_ConnectSession__Output } from '../../credvault/v1/ConnectSession';
import type { Connection as _credvault_v1_Connection, Connection__Output as _credvault_v1_Connection__Output } from '../../credvault/v1/Connection';
import type { ConnectionEvent as _credvault_v1_ConnectionEvent, ConnectionEvent__Output as _credvault_v1_ConnectionEvent__Output } from '../../credvault/v1/ConnectionEvent';
import type { CreateConnectSessionRequest as _credvault_v1_CreateConnectSessionRequest, CreateConnectSessionRequest__Output as _credvault_v1_CreateConnectSessionRequest__Output } from '../../credvault/v1/CreateConnectSessionRequest';
import type { CreateConnectionRequest as _credvault_v1_CreateConnectionRequest, CreateConnectionRequest__Output as _credvault_v1_CreateConnectionRequest__Output } from '../../credvault/v1/CreateConnectionRequest';
import type { DeleteConnectionRequest as _credvault_v1_DeleteConnectionRequest, DeleteConnectionRequest__Output as _credvault_v1_DeleteConnectionRequest__Output } from '../../credvault/v1/DeleteConnectionRequest';
import type { DeleteConnectionResponse as _credvault_v1_DeleteConnectionResponse, DeleteConnectionResponse__Output as _credvault_v1_DeleteConnectionResponse__Output } from '../../credvault/v1/DeleteConnectionResponse';
import type { GetAuthHeadersRequest as _credvault_v1_GetAuthHeadersRequest, GetAuthHeadersRequest__Output as _credvault_v1_GetAuthHeadersRequest__Output } from '../../credvault/v1/GetAuthHeadersRequest';
import type { GetAuthHeadersResponse as _credvault_v1_GetAuthHeadersResponse, GetAuthHeadersResponse__Output as _credvault_v1_GetAuthHeadersResponse__Output } from '../../credvault/v1/GetAuthHeadersResponse';
import type { GetConnectSessionRequest as _credvault_v1_GetConnectSessionRequest, GetConnectSessionRequest__Output as _credvault_v1_GetConnectSessionRequest__Output } from '../../credvault/v1/GetConnectSessionRequest';
import type { GetConnectionRequest as _credvault_v1_GetConnectionRequest, GetConnectionRequest__Output as _credvault_v1_GetConnectionRequest__Output } from '../../credvault/v1/GetConnectionRequest';
import type { ListConnectionsRequest as _credvault_v1_ListConnectionsRequest, ListConnectionsRequest__Output as _credvault_v1_ListConnectionsRequest__Output } from '../../credvault/v1/ListConnectionsRequest';
import type { ListConnectionsResponse as _credvault_v1_ListConnectionsResponse, ListConnectionsResponse__Output as _credvault_v1_ListConnectionsResponse__Output } from '../../credvault/v1/ListConnectionsResponse';
import type { ListProvidersRequest as _credvault_v1_ListProvidersRequest, ListProvidersRequest__Output as _credvault_v1_ListProvidersRequest__Output } from '../../credvault/v1/ListProvidersRequest';
import type { ListProvidersResponse as _credvault_v1_ListProvidersResponse, ListProvidersResponse__Output as _credvault_v1_ListProvidersResponse__Output } from '../../credvault/v1/ListProvidersResponse';
import type { UpdateConnectionRequest as _credvault_v1_UpdateConnectionRequest, UpdateConnectionRequest__Output as _credvault_v1_UpdateConnectionRequest__Output } from '../../credvault/v1/UpdateConnectionRequest';
import type { VerifyConnectionRequest as _credvault_v1_VerifyConnectionRequest, VerifyConnectionRequest__Output as _credvault_v1_VerifyConnectionRequest__Output } from '../../credvault/v1/VerifyConnectionRequest';
import type { VerifyConnectionResponse as _credvault_v1_VerifyConnectionResponse, VerifyConnectionResponse__Output as _credvault_v1_VerifyConnectionResponse__Output } from '../../credvault/v1/VerifyConnectionResponse';
import type { WatchConnectionEventsRequest as _credvault_v1_WatchConnectionEventsRequest, WatchConnectionEventsRequest__Output as _credvault_v1_WatchConnectionEventsRequest__Output } from '../../credvault/v1/WatchConnectionEventsRequest';

export interface CredentialVaultClient extends grpc.Client {
  CreateConnectSession(argument: _credvault_v1_CreateConnectSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  CreateConnectSession(argument: _credvault_v1_CreateConnectSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  CreateConnectSession(argument: _credvault_v1_CreateConnectSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  CreateConnectSession(argument: _credvault_v1_CreateConnectSessionRequest, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  createConnectSession(argument: _credvault_v1_CreateConnectSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  createConnectSession(argument: _credvault_v1_CreateConnectSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  createConnectSession(argument: _credvault_v1_CreateConnectSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  createConnectSession(argument: _credvault_v1_CreateConnectSessionRequest, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  
  CreateConnection(argument: _credvault_v1_CreateConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  CreateConnection(argument: _credvault_v1_CreateConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  CreateConnection(argument: _credvault_v1_CreateConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  CreateConnection(argument: _credvault_v1_CreateConnectionRequest, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  createConnection(argument: _credvault_v1_CreateConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  createConnection(argument: _credvault_v1_CreateConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  createConnection(argument: _credvault_v1_CreateConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  createConnection(argument: _credvault_v1_CreateConnectionRequest, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  DeleteConnection(argument: _credvault_v1_DeleteConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  DeleteConnection(argument: _credvault_v1_DeleteConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  DeleteConnection(argument: _credvault_v1_DeleteConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  DeleteConnection(argument: _credvault_v1_DeleteConnectionRequest, callback: grpc.requestCallback<_credvault_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  deleteConnection(argument: _credvault_v1_DeleteConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  deleteConnection(argument: _credvault_v1_DeleteConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  deleteConnection(argument: _credvault_v1_DeleteConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  deleteConnection(argument: _credvault_v1_DeleteConnectionRequest, callback: grpc.requestCallback<_credvault_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  
  GetAuthHeaders(argument: _credvault_v1_GetAuthHeadersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_GetAuthHeadersResponse__Output>): grpc.ClientUnaryCall;
  GetAuthHeaders(argument: _credvault_v1_GetAuthHeadersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_GetAuthHeadersResponse__Output>): grpc.ClientUnaryCall;
  GetAuthHeaders(argument: _credvault_v1_GetAuthHeadersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_GetAuthHeadersResponse__Output>): grpc.ClientUnaryCall;
  GetAuthHeaders(argument: _credvault_v1_GetAuthHeadersRequest, callback: grpc.requestCallback<_credvault_v1_GetAuthHeadersResponse__Output>): grpc.ClientUnaryCall;
  getAuthHeaders(argument: _credvault_v1_GetAuthHeadersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_GetAuthHeadersResponse__Output>): grpc.ClientUnaryCall;
  getAuthHeaders(argument: _credvault_v1_GetAuthHeadersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_GetAuthHeadersResponse__Output>): grpc.ClientUnaryCall;
  getAuthHeaders(argument: _credvault_v1_GetAuthHeadersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_GetAuthHeadersResponse__Output>): grpc.ClientUnaryCall;
  getAuthHeaders(argument: _credvault_v1_GetAuthHeadersRequest, callback: grpc.requestCallback<_credvault_v1_GetAuthHeadersResponse__Output>): grpc.ClientUnaryCall;
  
  GetConnectSession(argument: _credvault_v1_GetConnectSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  GetConnectSession(argument: _credvault_v1_GetConnectSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  GetConnectSession(argument: _credvault_v1_GetConnectSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  GetConnectSession(argument: _credvault_v1_GetConnectSessionRequest, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  getConnectSession(argument: _credvault_v1_GetConnectSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  getConnectSession(argument: _credvault_v1_GetConnectSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  getConnectSession(argument: _credvault_v1_GetConnectSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  getConnectSession(argument: _credvault_v1_GetConnectSessionRequest, callback: grpc.requestCallback<_credvault_v1_ConnectSession__Output>): grpc.ClientUnaryCall;
  
  GetConnection(argument: _credvault_v1_GetConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  GetConnection(argument: _credvault_v1_GetConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  GetConnection(argument: _credvault_v1_GetConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  GetConnection(argument: _credvault_v1_GetConnectionRequest, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  getConnection(argument: _credvault_v1_GetConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  getConnection(argument: _credvault_v1_GetConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  getConnection(argument: _credvault_v1_GetConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  getConnection(argument: _credvault_v1_GetConnectionRequest, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  ListConnections(argument: _credvault_v1_ListConnectionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  ListConnections(argument: _credvault_v1_ListConnectionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  ListConnections(argument: _credvault_v1_ListConnectionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  ListConnections(argument: _credvault_v1_ListConnectionsRequest, callback: grpc.requestCallback<_credvault_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  listConnections(argument: _credvault_v1_ListConnectionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  listConnections(argument: _credvault_v1_ListConnectionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  listConnections(argument: _credvault_v1_ListConnectionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  listConnections(argument: _credvault_v1_ListConnectionsRequest, callback: grpc.requestCallback<_credvault_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  
  ListProviders(argument: _credvault_v1_ListProvidersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  ListProviders(argument: _credvault_v1_ListProvidersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  ListProviders(argument: _credvault_v1_ListProvidersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  ListProviders(argument: _credvault_v1_ListProvidersRequest, callback: grpc.requestCallback<_credvault_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  listProviders(argument: _credvault_v1_ListProvidersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  listProviders(argument: _credvault_v1_ListProvidersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  listProviders(argument: _credvault_v1_ListProvidersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  listProviders(argument: _credvault_v1_ListProvidersRequest, callback: grpc.requestCallback<_credvault_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateConnection(argument: _credvault_v1_UpdateConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  UpdateConnection(argument: _credvault_v1_UpdateConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  UpdateConnection(argument: _credvault_v1_UpdateConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  UpdateConnection(argument: _credvault_v1_UpdateConnectionRequest, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  updateConnection(argument: _credvault_v1_UpdateConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  updateConnection(argument: _credvault_v1_UpdateConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  updateConnection(argument: _credvault_v1_UpdateConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  updateConnection(argument: _credvault_v1_UpdateConnectionRequest, callback: grpc.requestCallback<_credvault_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  VerifyConnection(argument: _credvault_v1_VerifyConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_VerifyConnectionResponse__Output>): grpc.ClientUnaryCall;
  VerifyConnection(argument: _credvault_v1_VerifyConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_VerifyConnectionResponse__Output>): grpc.ClientUnaryCall;
  VerifyConnection(argument: _credvault_v1_VerifyConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_VerifyConnectionResponse__Output>): grpc.ClientUnaryCall;
  VerifyConnection(argument: _credvault_v1_VerifyConnectionRequest, callback: grpc.requestCallback<_credvault_v1_VerifyConnectionResponse__Output>): grpc.ClientUnaryCall;
  verifyConnection(argument: _credvault_v1_VerifyConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_VerifyConnectionResponse__Output>): grpc.ClientUnaryCall;
  verifyConnection(argument: _credvault_v1_VerifyConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credvault_v1_VerifyConnectionResponse__Output>): grpc.ClientUnaryCall;
  verifyConnection(argument: _credvault_v1_VerifyConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credvault_v1_VerifyConnectionResponse__Output>): grpc.ClientUnaryCall;
  verifyConnection(argument: _credvault_v1_VerifyConnectionRequest, callback: grpc.requestCallback<_credvault_v1_VerifyConnectionResponse__Output>): grpc.ClientUnaryCall;
  
  WatchConnectionEvents(argument: _credvault_v1_WatchConnectionEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_credvault_v1_ConnectionEvent__Output>;
  WatchConnectionEvents(argument: _credvault_v1_WatchConnectionEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_credvault_v1_ConnectionEvent__Output>;
  watchConnectionEvents(argument: _credvault_v1_WatchConnectionEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_credvault_v1_ConnectionEvent__Output>;
  watchConnectionEvents(argument: _credvault_v1_WatchConnectionEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_credvault_v1_ConnectionEvent__Output>;
  
}

export interface CredentialVaultHandlers extends grpc.UntypedServiceImplementation {
  CreateConnectSession: grpc.handleUnaryCall<_credvault_v1_CreateConnectSessionRequest__Output, _credvault_v1_ConnectSession>;
  
  CreateConnection: grpc.handleUnaryCall<_credvault_v1_CreateConnectionRequest__Output, _credvault_v1_Connection>;
  
  DeleteConnection: grpc.handleUnaryCall<_credvault_v1_DeleteConnectionRequest__Output, _credvault_v1_DeleteConnectionResponse>;
  
  GetAuthHeaders: grpc.handleUnaryCall<_credvault_v1_GetAuthHeadersRequest__Output, _credvault_v1_GetAuthHeadersResponse>;
  
  GetConnectSession: grpc.handleUnaryCall<_credvault_v1_GetConnectSessionRequest__Output, _credvault_v1_ConnectSession>;
  
  GetConnection: grpc.handleUnaryCall<_credvault_v1_GetConnectionRequest__Output, _credvault_v1_Connection>;
  
  ListConnections: grpc.handleUnaryCall<_credvault_v1_ListConnectionsRequest__Output, _credvault_v1_ListConnectionsResponse>;
  
  ListProviders: grpc.handleUnaryCall<_credvault_v1_ListProvidersRequest__Output, _credvault_v1_ListProvidersResponse>;
  
  UpdateConnection: grpc.handleUnaryCall<_credvault_v1_UpdateConnectionRequest__Output, _credvault_v1_Connection>;
  
  VerifyConnection: grpc.handleUnaryCall<_credvault_v1_VerifyConnectionRequest__Output, _credvault_v1_VerifyConnectionResponse>;
  
  WatchConnectionEvents: grpc.handleServerStreamingCall<_credvault_v1_WatchConnectionEventsRequest__Output, _credvault_v1_ConnectionEvent>;
  
}

export interface CredentialVaultDefinition extends grpc.ServiceDefinition {
  CreateConnectSession: MethodDefinition<_credvault_v1_CreateConnectSessionRequest, _credvault_v1_ConnectSession, _credvault_v1_CreateConnectSessionRequest__Output, _credvault_v1_ConnectSession__Output>
  CreateConnection: MethodDefinition<_credvault_v1_CreateConnectionRequest, _credvault_v1_Connection, _credvault_v1_CreateConnectionRequest__Output, _credvault_v1_Connection__Output>
  DeleteConnection: MethodDefinition<_credvault_v1_DeleteConnectionRequest, _credvault_v1_DeleteConnectionResponse, _credvault_v1_DeleteConnectionRequest__Output, _credvault_v1_DeleteConnectionResponse__Output>
  GetAuthHeaders: MethodDefinition<_credvault_v1_GetAuthHeadersRequest, _credvault_v1_GetAuthHeadersResponse, _credvault_v1_GetAuthHeadersRequest__Output, _credvault_v1_GetAuthHeadersResponse__Output>
  GetConnectSession: MethodDefinition<_credvault_v1_GetConnectSessionRequest, _credvault_v1_ConnectSession, _credvault_v1_GetConnectSessionRequest__Output, _credvault_v1_ConnectSession__Output>
  GetConnection: MethodDefinition<_credvault_v1_GetConnectionRequest, _credvault_v1_Connection, _credvault_v1_GetConnectionRequest__Output, _credvault_v1_Connection__Output>
  ListConnections: MethodDefinition<_credvault_v1_ListConnectionsRequest, _credvault_v1_ListConnectionsResponse, _credvault_v1_ListConnectionsRequest__Output, _credvault_v1_ListConnectionsResponse__Output>
  ListProviders: MethodDefinition<_credvault_v1_ListProvidersRequest, _credvault_v1_ListProvidersResponse, _credvault_v1_ListProvidersRequest__Output, _credvault_v1_ListProvidersResponse__Output>
  UpdateConnection: MethodDefinition<_credvault_v1_UpdateConnectionRequest, _credvault_v1_Connection, _credvault_v1_UpdateConnectionRequest__Output, _credvault_v1_Connection__Output>
  VerifyConnection: MethodDefinition<_credvault_v1_VerifyConnectionRequest, _credvault_v1_VerifyConnectionResponse, _credvault_v1_VerifyConnectionRequest__Output, _credvault_v1_VerifyConnectionResponse__Output>
  WatchConnectionEvents: MethodDefinition<_credvault_v1_WatchConnectionEventsRequest, _credvault_v1_ConnectionEvent, _credvault_v1_WatchConnectionEventsRequest__Output, _credvault_v1_ConnectionEvent__Output>
}
