'use strict';
// credvault's Node.js client: the service loaded at run time from the committed proto with
// @grpc/proto-loader (no generated JavaScript to keep in step; TypeScript types for the messages are in
// types/generated), plus a small promise API with default deadlines, gRPC's own retry policy for the
// read-only calls, and errors carrying the server's rich details.

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { CredvaultError } = require('./errors');
const { AuthHeaderCache } = require('./header-cache');

const PROTO_DIR = path.join(__dirname, '..', 'proto');
// The same options scripts/generate gives proto-loader-gen-types, so the types match the objects.
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

const definition = protoLoader.loadSync('credvault/v1/credvault.proto', {
  ...LOADER_OPTIONS,
  includeDirs: [PROTO_DIR],
});
const { CredentialVault } = grpc.loadPackageDefinition(definition).credvault.v1;

/** Seconds each call may take unless the caller passes `timeout`; calls that check the credentials
 * with the provider get longer (the server gives the provider up to 10 s plus Vault time). */
const DEFAULT_TIMEOUTS = {
  CreateConnection: 30,
  UpdateConnection: 30,
  VerifyConnection: 30,
  DeleteConnection: 10,
  GetConnection: 5,
  ListConnections: 10,
  GetAuthHeaders: 5,
  ListProviders: 5,
  CreateConnectSession: 10,
  GetConnectSession: 5,
};

/** Read-only calls, retried on UNAVAILABLE by gRPC itself. Never Create/Update (a lost answer does not
 * mean nothing changed), nor Delete (a repeat says NOT_FOUND), nor Verify (each attempt calls the
 * provider, which may be what is unavailable). */
const RETRIED_METHODS = ['GetConnection', 'ListConnections', 'GetAuthHeaders', 'ListProviders'];
const SERVICE_CONFIG = {
  methodConfig: [
    {
      name: RETRIED_METHODS.map((method) => ({ service: 'credvault.v1.CredentialVault', method })),
      retryPolicy: {
        maxAttempts: 4,
        initialBackoff: '0.1s',
        maxBackoff: '2s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
};

/** HTTP/2 keepalive pings, in seconds, sent only while a call is open (an idle client does not ping).
 * A header cache's watch stream may stay quiet for hours; if its connection dies without a FIN or RST
 * (a partition, a frozen server host) nothing else notices, and the cache would miss changes until its
 * entries' cache_ttl. A ping after `time` seconds without a frame, answered within `timeout`, makes the
 * stream fail with UNAVAILABLE within about time + timeout (30 s); the watch then reconnects and replays
 * what it missed. 20 s is twice the server's default CREDVAULT_MIN_PING_INTERVAL (it refuses pings
 * sooner than that) and under common load balancers' idle timeouts; 10 s tolerates a loaded server. */
const KEEPALIVE = { time: 20, timeout: 10 };

/** gRPC channel options for `keepalive` ({time, timeout} in seconds, or null for no pings). */
function keepaliveOptions(keepalive) {
  if (keepalive === null) return {};
  const { time, timeout } = { ...KEEPALIVE, ...keepalive };
  return { 'grpc.keepalive_time_ms': Math.round(time * 1000), 'grpc.keepalive_timeout_ms': Math.round(timeout * 1000) };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/;

class CredvaultClient {
  /**
   * @param {string} address host:port
   * @param {object} [options]
   * @param {boolean} [options.tls=true] false: plaintext, for loopback and development
   * @param {Buffer} [options.rootCerts] PEM CAs replacing the system ones
   * @param {string} [options.token] sent as `authorization: Bearer <token>`; over TLS, or plaintext
   *   to a loopback address only, so it never crosses a network in clear
   * @param {object} [options.timeouts] seconds per method name, over DEFAULT_TIMEOUTS
   * @param {{time?: number, timeout?: number} | null} [options.keepalive=KEEPALIVE] seconds between
   *   keepalive pings while a call is open, and for their answer; null: no pings
   * @param {boolean} [options.cacheAuthHeaders=false] keep getAuthHeaders answers in memory for their
   *   cache_ttl, dropped at once when the connection changes (see header-cache.js); call close()
   *   to end the event streams the cache holds
   * @param {number} [options.cacheSize=10000] most connections the cache keeps
   * @param {{warn: Function, info: Function}} [options.logger=console] where the cache says that it
   *   cannot watch a tenant's events
   */
  constructor(
    address,
    {
      tls = true,
      rootCerts,
      token,
      timeouts = {},
      keepalive = KEEPALIVE,
      channelOptions = {},
      cacheAuthHeaders = false,
      cacheSize,
      logger = console,
    } = {},
  ) {
    let credentials = tls ? grpc.credentials.createSsl(rootCerts) : grpc.credentials.createInsecure();
    this.callMetadata = new grpc.Metadata();
    if (token !== undefined && tls) {
      const bearer = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', `Bearer ${token}`);
        callback(null, metadata);
      });
      credentials = grpc.credentials.combineChannelCredentials(credentials, bearer);
    } else if (token !== undefined) {
      if (!LOOPBACK.test(address)) throw new Error('a token over plaintext is only sent to a loopback address');
      this.callMetadata.set('authorization', `Bearer ${token}`);
    }
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
    this.stub = new CredentialVault(address, credentials, {
      'grpc.service_config': JSON.stringify(SERVICE_CONFIG),
      ...keepaliveOptions(keepalive),
      ...channelOptions,
    });
    this.headerCache = cacheAuthHeaders
      ? new AuthHeaderCache(this.stub, (request, options) => this.#call('GetAuthHeaders', request, options), {
          size: cacheSize,
          metadata: () => this.callMetadata.clone(),
          logger,
        })
      : null;
  }

  /** Verifies the credentials with the provider and stores the connection (never retried). */
  createConnection(request, options) {
    return this.#call('CreateConnection', request, options);
  }

  getConnection(request, options) {
    return this.#call('GetConnection', request, options);
  }

  listConnections(request, options) {
    return this.#call('ListConnections', request, options);
  }

  /** Every connection of a tenant, page by page. */
  async *iterConnections(request, options) {
    let page_token = '';
    do {
      const page = await this.listConnections({ ...request, page_token }, options);
      yield* page.connections;
      page_token = page.next_page_token;
    } while (page_token);
  }

  updateConnection(request, options) {
    return this.#forgetting(request, this.#call('UpdateConnection', request, options));
  }

  deleteConnection(request, options) {
    return this.#forgetting(request, this.#call('DeleteConnection', request, options));
  }

  /** Checks the stored credentials with the provider; a rejection is `outcome.ok === false`. */
  verifyConnection(request, options) {
    return this.#forgetting(request, this.#call('VerifyConnection', request, options));
  }

  /** The headers (secret: never log them) and base URL to call the provider with. With the cache on,
   * the answer may be shared with other callers: read it, never modify it. */
  getAuthHeaders(request, options) {
    if (this.headerCache) {
      const seconds = options?.timeout ?? this.timeouts.GetAuthHeaders;
      return this.headerCache.get(request, Date.now() + seconds * 1000);
    }
    return this.#call('GetAuthHeaders', request, options);
  }

  async listProviders(options) {
    return (await this.#call('ListProviders', {}, options)).providers;
  }

  /** A link (`connect_url`, secret: give it only to the person) to the Connect page, where that person
   * enters their own credentials; `connection_id` of an existing connection reconnects it. `ttl` as
   * { seconds } (1 s to 24 h; unset: 30 min). Never retried. */
  createConnectSession(request, options) {
    return this.#call('CreateConnectSession', request, options);
  }

  /** The session's state: PENDING, COMPLETED (with its connection_id) or EXPIRED. */
  getConnectSession(request, options) {
    return this.#call('GetConnectSession', request, options);
  }

  /** The tenant's connection events after the cursor `after` (empty: from now), as they happen, in
   * order: `for await (const event of client.watchEvents({ tenant_id, after }))`. The stream never ends
   * by itself (`timeout`, in seconds, ends it with DEADLINE_EXCEEDED). Pass an event's `cursor` as
   * `after` to resume after it; OUT_OF_RANGE: list the connections again and watch from now. Leave the
   * loop to stop. */
  async *watchEvents(request, { timeout } = {}) {
    const options = timeout === undefined ? {} : { deadline: new Date(Date.now() + timeout * 1000) };
    const call = this.stub.WatchConnectionEvents(request, this.callMetadata.clone(), options);
    call.on('error', () => {}); // the loop below sees errors; this one only keeps a cancel quiet
    try {
      for await (const event of call) yield event;
    } catch (error) {
      throw error.code === undefined ? error : new CredvaultError(error);
    } finally {
      call.cancel();
    }
  }

  close() {
    if (this.headerCache) this.headerCache.close();
    this.stub.close();
  }

  /** This client's own changes show in its cache at once, before their event arrives. */
  #forgetting(request, call) {
    if (!this.headerCache) return call;
    return call.finally(() => this.headerCache.drop(request.tenant_id, request.connection_id));
  }

  #call(method, request, { timeout } = {}) {
    const seconds = timeout ?? this.timeouts[method];
    const deadline = new Date(Date.now() + seconds * 1000);
    return new Promise((resolve, reject) => {
      this.stub[method](request, this.callMetadata.clone(), { deadline }, (error, response) =>
        error ? reject(new CredvaultError(error)) : resolve(response),
      );
    });
  }
}

module.exports = {
  AuthHeaderCache,
  CredvaultClient,
  CredvaultError,
  DEFAULT_TIMEOUTS,
  KEEPALIVE,
  RETRIED_METHODS,
  grpc,
};
