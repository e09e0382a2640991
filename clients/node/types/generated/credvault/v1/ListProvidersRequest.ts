// Original file: proto/credvault/v1/credvault.proto


export interface ListProvidersRequest {
}

export interface ListProvidersRequest__Output {
}
