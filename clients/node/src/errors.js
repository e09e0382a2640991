'use strict';
// credvault's errors as one Error class carrying the google.rpc details the server sends in the
// grpc-status-details-bin trailer: ErrorInfo (reason, metadata), BadRequest (violations), RetryInfo, Help.

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

const PROTO_DIR = path.join(__dirname, '..', 'proto');

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const Status = root.lookupType('google.rpc.Status');
const DETAIL_TYPES = ['ErrorInfo', 'BadRequest', 'RetryInfo', 'Help'].map((name) =>
  root.lookupType(`google.rpc.${name}`),
);

const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([name, code]) => [code, name]));

/** A failed call. `codeName` is the gRPC status name (e.g. 'NOT_FOUND'), `reason` ErrorInfo's
 * machine-readable reason (e.g. 'CREDENTIALS_REJECTED'), empty when the server sent none. */
class CredvaultError extends Error {
  constructor(serviceError) {
    const codeName = CODE_NAMES[serviceError.code] ?? 'UNKNOWN';
    super(`${codeName}: ${serviceError.details}`);
    this.name = 'CredvaultError';
    this.code = serviceError.code;
    this.codeName = codeName;
    this.details = serviceError.details;
    this.reason = '';
    this.domain = '';
    this.metadata = {};
    this.violations = [];
    this.retryAfterMs = null;
    this.helpLinks = [];
    for (const detail of decodeDetails(serviceError.metadata)) {
      if (detail.kind === 'ErrorInfo') {
        Object.assign(this, { reason: detail.reason, domain: detail.domain, metadata: { ...detail.metadata } });
      } else if (detail.kind === 'BadRequest') {
        this.violations = detail.field_violations.map(({ field, description }) => ({ field, description }));
      } else if (detail.kind === 'RetryInfo' && detail.retry_delay) {
        this.retryAfterMs = Number(detail.retry_delay.seconds) * 1000 + detail.retry_delay.nanos / 1e6;
      } else if (detail.kind === 'Help') {
        this.helpLinks = detail.links.map((link) => link.url);
      }
    }
  }
}

function decodeDetails(metadata) {
  const [encoded] = metadata?.get('grpc-status-details-bin') ?? [];
  if (!encoded) return [];
  const status = Status.decode(encoded);
  const found = [];
  for (const any of status.details) {
    const type = DETAIL_TYPES.find((t) => any.type_url.endsWith(`/${t.fullName.slice(1)}`));
    if (type) {
      const message = type.toObject(type.decode(any.value), { longs: String, defaults: true });
      found.push({ kind: type.name, ...message });
    }
  }
  return found;
}

module.exports = { CredvaultError };
