'use strict';
// AuthHeaderCache: GetAuthHeaders answers kept in the caller's memory (opt in with
// `new CredvaultClient(address, { cacheAuthHeaders: true })`).
//
// An answer is reused while it is younger than the cache_ttl the server gave it, never longer; an
// answer with no cache_ttl (0) and a failed call are not kept. Within that time a change reaches the
// cache sooner: for every tenant it holds entries of, the cache follows the tenant's
// WatchConnectionEvents stream (TenantWatch) and drops a connection's entry on any event for it. When
// the stream cannot be held (the caller may not watch, the server is away) entries live out their
// cache_ttl. Concurrent misses for one connection share one call; each caller waits for it only until
// its own deadline (then DEADLINE_EXCEEDED), and the call itself keeps to the first caller's. A fetch that raced with an event for
// its tenant is answered but not kept. Size is bounded (lru-cache: least recently used entries go first,
// each with its own TTL). Answers are shared between callers: read them, never modify them.

const grpc = require('@grpc/grpc-js');
const { LRUCache } = require('lru-cache');
const { CredvaultError } = require('./errors');
const { TenantWatch } = require('./event-watch');

const DEFAULT_SIZE = 10_000;
/** How long a tenant's first miss waits for its event stream to open before it fetches anyway. */
const WATCH_WAIT_MS = 1000;
/** How often (at most, on a miss) streams of tenants with no entries left are closed. */
const PRUNE_EVERY_MS = 10_000;

const SEP = '\u0000'; // ids never hold it

class AuthHeaderCache {
  /**
   * @param {object} stub the CredentialVault client
   * @param {(request: object, options: { timeout: number }) => Promise<object>} fetch the uncached call
   * @param {object} options
   */
  constructor(stub, fetch, { size = DEFAULT_SIZE, metadata, logger = console } = {}) {
    this.stub = stub;
    this.fetch = fetch;
    this.metadata = metadata;
    this.logger = logger;
    this.entries = new LRUCache({ max: size });
    this.flights = new Map();
    this.tickets = new Map();
    this.watches = new Map();
    this.prunedAt = Date.now();
    this.closed = false;
  }

  /** The cached answer, or the one call in flight for the connection, or a new call; by `deadline`
   * (epoch milliseconds) at the latest. */
  get(request, deadline) {
    const key = request.tenant_id + SEP + request.connection_id;
    const hit = this.entries.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const flight = this.flights.get(key);
    if (flight !== undefined) return byDeadline(flight, deadline);
    const miss = this.#miss(key, request, deadline).finally(() => this.flights.delete(key));
    this.flights.set(key, miss);
    return miss;
  }

  drop(tenantId, connectionId) {
    this.#bump(tenantId);
    this.entries.delete(tenantId + SEP + connectionId);
  }

  dropTenant(tenantId) {
    this.#bump(tenantId);
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(tenantId + SEP)) this.entries.delete(key);
    }
  }

  /** Whether the tenant's event stream is open right now. */
  watching(tenantId) {
    return Boolean(this.watches.get(tenantId)?.live);
  }

  get size() {
    this.entries.purgeStale();
    return this.entries.size;
  }

  close() {
    this.closed = true;
    for (const watch of this.watches.values()) watch.stop();
    this.watches.clear();
    this.entries.clear();
  }

  async #miss(key, request, deadline) {
    const tenantId = request.tenant_id;
    await waitAtMost(this.#watch(tenantId).settled, Math.min(WATCH_WAIT_MS, deadline - Date.now()));
    const ticket = this.tickets.get(tenantId) ?? 0;
    const response = await this.fetch(request, { timeout: Math.max(0, deadline - Date.now()) / 1000 });
    const ttlMs = durationMs(response.cache_ttl);
    if (ttlMs > 0 && !this.closed && (this.tickets.get(tenantId) ?? 0) === ticket) {
      this.entries.set(key, response, { ttl: ttlMs });
    }
    this.#prune();
    return response;
  }

  #bump(tenantId) {
    this.tickets.set(tenantId, (this.tickets.get(tenantId) ?? 0) + 1);
  }

  #watch(tenantId) {
    if (this.closed) throw new Error('credvault: the client is closed');
    let watch = this.watches.get(tenantId);
    if (watch === undefined) {
      watch = new TenantWatch(this.stub, tenantId, {
        onEvent: (event) => this.drop(event.tenant_id, event.connection_id),
        onGap: () => this.dropTenant(tenantId),
        metadata: this.metadata,
        logger: this.logger,
      }).start();
      this.watches.set(tenantId, watch);
    }
    return watch;
  }

  #prune() {
    const now = Date.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    this.entries.purgeStale();
    const held = new Set([...this.entries.keys(), ...this.flights.keys()].map((key) => key.split(SEP)[0]));
    for (const [tenantId, watch] of this.watches) {
      if (!held.has(tenantId)) {
        watch.stop();
        this.watches.delete(tenantId);
      }
    }
  }
}

function durationMs(duration) {
  if (!duration) return 0;
  return Number(duration.seconds) * 1000 + Math.floor(Number(duration.nanos) / 1e6);
}

function waitAtMost(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `flight`'s outcome, or DEADLINE_EXCEEDED if it has none by `deadline` (epoch milliseconds). */
function byDeadline(flight, deadline) {
  let timer;
  const expiry = new Promise((_resolve, reject) => {
    const details = 'no answer within the deadline (waiting for the call in flight for this connection)';
    const error = { code: grpc.status.DEADLINE_EXCEEDED, details, metadata: new grpc.Metadata() };
    timer = setTimeout(() => reject(new CredvaultError(error)), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([flight, expiry]).finally(() => clearTimeout(timer));
}

module.exports = { AuthHeaderCache, DEFAULT_SIZE };
