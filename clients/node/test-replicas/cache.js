'use strict';
// The auth header cache against two live replicas on one OpenBao (tests/integration/test_client_cache.py
// starts them and sets the environment): changes go through replica A, the cached client reads and
// watches through replica B, and B's metrics count the GetAuthHeaders calls it answered.

const net = require('node:net');
const test = require('node:test');
const assert = require('node:assert/strict');
const { CredvaultClient, CredvaultError } = require('../src');

const env = process.env;
const skip = env.CREDVAULT_REPLICA_B ? false : 'needs the replicas from tests/integration/test_client_cache.py';
const [revokedTenant, revokedConnection] = (env.CREDVAULT_TEST_REVOKED || '/').split('/');
const [invalidTenant, invalidConnection] = (env.CREDVAULT_TEST_INVALID || '/').split('/');

function client(address, role, options = {}) {
  return new CredvaultClient(address, { tls: false, token: env[`CREDVAULT_TOKEN_${role.toUpperCase()}`], ...options });
}

/** GetAuthHeaders calls the server has answered, whatever their outcome, from its metrics. */
async function headerCalls(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('credvault_rpc_duration_seconds_count{') && line.includes('method="GetAuthHeaders"'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function eventually(check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

/** The key the client hands out now, or the name of the error it fails with. */
async function servedKey(vault, ids, options) {
  try {
    return (await vault.getAuthHeaders(ids, options)).headers['x-api-key'];
  } catch (error) {
    if (error instanceof CredvaultError) return error.codeName;
    throw error;
  }
}

/** A TCP proxy to `address` whose connections can be frozen: bytes stop going either way and no socket
 * is closed (a partition, a frozen host). Connections opened after a freeze are forwarded (the path is
 * back), so a client that notices can reconnect. */
async function freezingProxy(address) {
  const at = address.lastIndexOf(':');
  const pairs = [];
  const listener = net.createServer((down) => {
    const up = net.connect(Number(address.slice(at + 1)), address.slice(0, at));
    const pair = { frozen: false, sockets: [down, up] };
    pairs.push(pair);
    for (const [from, to] of [
      [down, up],
      [up, down],
    ]) {
      from.on('data', (data) => pair.frozen || to.write(data));
      from.on('end', () => pair.frozen || to.end());
      from.on('error', () => {});
    }
  });
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${listener.address().port}`,
    freeze: () => pairs.forEach((pair) => (pair.frozen = true)),
    close: () => {
      listener.close();
      pairs.forEach((pair) => pair.sockets.forEach((socket) => socket.destroy()));
    },
  };
}

let counter = 0;
async function connection(admin, key = env.CREDVAULT_TEST_JUMPCLOUD_KEY) {
  const ids = { tenant_id: `node-cache-${process.pid}-${++counter}`, connection_id: 'jc' };
  await admin.createConnection({ ...ids, provider: 'jumpcloud', credentials: { api_key: key } });
  return ids;
}

test('a caller joining a call in flight keeps its own deadline', async (t) => {
  // A listener that takes connections and never answers: the first caller's miss (30 s) hangs; a second
  // caller for the same connection gets DEADLINE_EXCEEDED at its own short deadline while the first waits.
  const held = [];
  const listener = net.createServer((socket) => held.push(socket));
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const cached = new CredvaultClient(`127.0.0.1:${listener.address().port}`, { tls: false, cacheAuthHeaders: true });
  t.after(() => cached.close());
  const ids = { tenant_id: 't-silent', connection_id: 'jc' };
  let firstDone = false;
  const first = servedKey(cached, ids, { timeout: 30 }).finally(() => (firstDone = true));
  await eventually(() => held.length > 0);
  assert.equal(await servedKey(cached, ids, { timeout: 0.2 }), 'DEADLINE_EXCEEDED');
  assert.equal(firstDone, false);
  listener.close();
  held.forEach((socket) => socket.destroy());
  assert.notEqual(await first, 'DEADLINE_EXCEEDED');
});

test('a hit makes no call', { skip }, async (t) => {
  const admin = client(env.CREDVAULT_REPLICA_A, 'admin');
  const cached = client(env.CREDVAULT_REPLICA_B, 'worker', { cacheAuthHeaders: true });
  t.after(() => [admin, cached].forEach((c) => c.close()));
  const ids = await connection(admin);
  const before = await headerCalls(env.CREDVAULT_REPLICA_B_METRICS);
  for (let i = 0; i < 200; i++) assert.equal(await servedKey(cached, ids), env.CREDVAULT_TEST_JUMPCLOUD_KEY);
  assert.equal((await headerCalls(env.CREDVAULT_REPLICA_B_METRICS)) - before, 1);
});

test('concurrent misses make one call', { skip }, async (t) => {
  const admin = client(env.CREDVAULT_REPLICA_A, 'admin');
  const cached = client(env.CREDVAULT_REPLICA_B, 'worker', { cacheAuthHeaders: true });
  t.after(() => [admin, cached].forEach((c) => c.close()));
  const ids = await connection(admin);
  const before = await headerCalls(env.CREDVAULT_REPLICA_B_METRICS);
  const keys = await Promise.all(Array.from({ length: 8 }, () => servedKey(cached, ids)));
  assert.deepEqual(keys, Array(8).fill(env.CREDVAULT_TEST_JUMPCLOUD_KEY));
  assert.equal((await headerCalls(env.CREDVAULT_REPLICA_B_METRICS)) - before, 1);
});

test('failures are not cached', { skip }, async (t) => {
  const cached = client(env.CREDVAULT_REPLICA_B, 'worker', { cacheAuthHeaders: true });
  t.after(() => cached.close());
  const before = await headerCalls(env.CREDVAULT_REPLICA_B_METRICS);
  const missing = { tenant_id: invalidTenant, connection_id: 'no-such-connection' };
  const invalid = { tenant_id: invalidTenant, connection_id: invalidConnection };
  for (let i = 0; i < 2; i++) {
    assert.equal(await servedKey(cached, missing), 'NOT_FOUND');
    assert.equal(await servedKey(cached, invalid), 'FAILED_PRECONDITION');
  }
  assert.equal((await headerCalls(env.CREDVAULT_REPLICA_B_METRICS)) - before, 4);
});

test('without the stream an entry lives its cache_ttl, and the client says so once', { skip }, async (t) => {
  const admin = client(env.CREDVAULT_REPLICA_A, 'admin');
  const said = [];
  const logger = { warn: (message) => said.push(message), info: () => {} };
  const cached = client(env.CREDVAULT_SHORT, 'blind', { cacheAuthHeaders: true, logger });
  t.after(() => [admin, cached].forEach((c) => c.close()));
  const ids = await connection(admin);
  const before = await headerCalls(env.CREDVAULT_SHORT_METRICS);
  assert.equal(await servedKey(cached, ids), env.CREDVAULT_TEST_JUMPCLOUD_KEY);
  assert.equal((await headerCalls(env.CREDVAULT_SHORT_METRICS)) - before, 1);
  const expired = async () =>
    (await servedKey(cached, ids)) === env.CREDVAULT_TEST_JUMPCLOUD_KEY &&
    (await headerCalls(env.CREDVAULT_SHORT_METRICS)) - before === 2;
  assert.ok(await eventually(expired), 'asked again once cache_ttl had passed');
  assert.equal(said.filter((message) => message.includes('cannot watch')).length, 1, said.join('\n'));
  assert.match(said[0], /PERMISSION_DENIED/);
});

for (const change of ['update', 'delete', 'invalidate']) {
  test(`${change} through another replica reaches the cache`, { skip }, async (t) => {
    const admin = client(env.CREDVAULT_REPLICA_A, 'admin');
    const cached = client(env.CREDVAULT_REPLICA_B, 'worker', { cacheAuthHeaders: true });
    t.after(() => [admin, cached].forEach((c) => c.close()));
    const ids =
      change === 'invalidate' ? { tenant_id: revokedTenant, connection_id: revokedConnection } : await connection(admin);
    const original = await servedKey(cached, ids);
    assert.ok(await eventually(() => cached.headerCache.watching(ids.tenant_id)), 'the stream opens');
    const before = await headerCalls(env.CREDVAULT_REPLICA_B_METRICS);
    assert.equal(await servedKey(cached, ids), original);
    assert.equal(await headerCalls(env.CREDVAULT_REPLICA_B_METRICS), before, 'served from memory');
    let expected;
    if (change === 'update') {
      await admin.updateConnection({ ...ids, credentials: { api_key: env.CREDVAULT_TEST_JUMPCLOUD_KEY_2 } });
      expected = env.CREDVAULT_TEST_JUMPCLOUD_KEY_2;
    } else if (change === 'delete') {
      await admin.deleteConnection(ids);
      expected = 'NOT_FOUND';
    } else {
      assert.equal((await admin.verifyConnection(ids)).outcome.ok, false); // its key was revoked
      expected = 'FAILED_PRECONDITION';
    }
    assert.ok(await eventually(async () => (await servedKey(cached, ids)) === expected), await servedKey(cached, ids));
  });
}

test('a frozen connection is noticed by keepalive pings and the missed change replayed', { skip }, async (t) => {
  // Both clients cache through one proxy in front of B (which accepts pings every 0.5 s); the proxy freezes
  // and the key is rotated through A. Only the pinging client notices (ping after 1 s, 1 s to answer),
  // reconnects and replays the update, long before cache_ttl (300 s).
  const proxy = await freezingProxy(env.CREDVAULT_REPLICA_B);
  const admin = client(env.CREDVAULT_REPLICA_A, 'admin');
  const pinging = client(proxy.address, 'worker', { cacheAuthHeaders: true, keepalive: { time: 1, timeout: 1 } });
  const silent = client(proxy.address, 'worker', { cacheAuthHeaders: true, keepalive: null });
  t.after(() => {
    [admin, pinging, silent].forEach((c) => c.close());
    proxy.close();
  });
  const ids = await connection(admin);
  const [first, second] = [env.CREDVAULT_TEST_JUMPCLOUD_KEY, env.CREDVAULT_TEST_JUMPCLOUD_KEY_2];
  for (const cached of [pinging, silent]) {
    assert.equal(await servedKey(cached, ids), first);
    assert.ok(await eventually(() => cached.headerCache.watching(ids.tenant_id)), 'the stream opens');
  }
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.ok(pinging.headerCache.watching(ids.tenant_id), 'pings are answered, not refused');
  proxy.freeze();
  await admin.updateConnection({ ...ids, credentials: { api_key: second } });
  const updated = Date.now();
  assert.equal(await servedKey(pinging, ids), first, 'from memory until the freeze is noticed');
  assert.ok(await eventually(async () => (await servedKey(pinging, ids)) === second), await servedKey(pinging, ids));
  t.diagnostic(`the new key was served ${((Date.now() - updated) / 1000).toFixed(1)} s after the update`);
  assert.equal(await servedKey(silent, ids), first, 'without pings the frozen stream is not noticed');
});
