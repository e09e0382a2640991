'use strict';
// TenantWatch: one tenant's WatchConnectionEvents stream, held open for the auth header cache:
// reconnected with backoff (full jitter, 0.1 s doubling to 30 s) and resumed from the last cursor seen.

const grpc = require('@grpc/grpc-js');

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 30_000;
/** How long a stream must have been open for its end to start the backoff afresh. */
const STABLE_AFTER_MS = 1000;
/** Initial metadata the server sends ('live') once a watch is in place. */
const WATCH_HEADER = 'credvault-watch';

class TenantWatch {
  /**
   * @param {object} stub the CredentialVault client
   * @param {string} tenantId
   * @param {object} hooks
   * @param {(event: object) => void} hooks.onEvent every event
   * @param {() => void} hooks.onGap the stream became live with no cursor to resume from (first
   *   time, or after OUT_OF_RANGE): events may have been missed, what is cached is suspect
   * @param {() => grpc.Metadata} hooks.metadata call metadata (the bearer token over loopback)
   * @param {{warn: Function, info: Function}} hooks.logger
   */
  constructor(stub, tenantId, { onEvent, onGap, metadata, logger }) {
    this.tenantId = tenantId;
    this.live = false;
    this.stub = stub;
    this.hooks = { onEvent, onGap, metadata, logger };
    this.cursor = '';
    this.delay = FIRST_DELAY_MS;
    this.liveSince = null;
    this.downLogged = false;
    this.stopped = false;
    this.call = null;
    this.timer = null;
    let settle;
    /** Resolves once the stream is live or has failed once. */
    this.settled = new Promise((resolve) => (settle = resolve));
    this.settle = settle;
  }

  start() {
    this.#open();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.call) this.call.cancel();
  }

  #open() {
    const resumed = Boolean(this.cursor);
    const call = this.stub.WatchConnectionEvents(
      { tenant_id: this.tenantId, after: this.cursor },
      this.hooks.metadata(),
    );
    this.call = call;
    // The server sends its headers, with WATCH_HEADER, once it has subscribed us (a refusal comes
    // with none); a server that sends no WATCH_HEADER is known to be live by its first event.
    let live = false;
    const wentLive = () => {
      live = true;
      if (!resumed) this.hooks.onGap();
      this.live = true;
      this.liveSince = Date.now();
      if (this.downLogged) {
        this.hooks.logger.info(`credvault: watching tenant ${this.tenantId}'s connection events again`);
        this.downLogged = false;
      }
      this.settle();
    };
    call.on('metadata', (metadata) => {
      if (metadata.get(WATCH_HEADER)[0] === 'live') wentLive();
    });
    call.on('data', (event) => {
      if (!live) wentLive();
      if (event.cursor) this.cursor = event.cursor;
      this.hooks.onEvent(event);
    });
    call.on('error', () => {}); // the outcome is handled once, on 'status'
    call.on('status', (status) => this.#closed(call, status));
  }

  #closed(call, status) {
    if (call !== this.call) return;
    this.call = null;
    this.live = false;
    this.settle();
    if (this.stopped) return;
    if (this.liveSince !== null && Date.now() - this.liveSince >= STABLE_AFTER_MS) this.delay = FIRST_DELAY_MS;
    this.liveSince = null;
    if (status.code === grpc.status.OUT_OF_RANGE) {
      this.cursor = ''; // too old to resume: watch from now at once; onGap drops what may be stale
      this.#open();
      return;
    }
    if (status.code !== grpc.status.OK && !this.downLogged) {
      this.hooks.logger.warn(
        `credvault: cannot watch tenant ${this.tenantId}'s connection events ` +
          `(${grpc.status[status.code]}: ${status.details}); cached auth headers are reused until ` +
          'their cache_ttl and no longer, until the stream is back',
      );
      this.downLogged = true;
    }
    this.timer = setTimeout(() => this.#open(), Math.random() * this.delay);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
  }
}

module.exports = { TenantWatch };
