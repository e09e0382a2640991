// Original file: proto/credvault/v1/credvault.proto


export interface DeleteConnectionResponse {
}

export interface DeleteConnectionResponse__Output {
}
