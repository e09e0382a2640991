'use strict';
// Against a live credvault (tests/integration/test_clients.py starts it and sets the environment):
// CREDVAULT_ADDRESS (host:port, plaintext) and CREDVAULT_TEST_JUMPCLOUD_KEY, a key the provider accepts.

const test = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { CredvaultClient, CredvaultError, KEEPALIVE } = require('../src');

const address = process.env.CREDVAULT_ADDRESS;
const key = process.env.CREDVAULT_TEST_JUMPCLOUD_KEY;
const skip = !address || !key ? 'needs CREDVAULT_ADDRESS and CREDVAULT_TEST_JUMPCLOUD_KEY' : false;

test('keepalive pings are on by default, can be changed or turned off', () => {
  // grpc-js keeps a channel's options in internalChannel.options (not a public API, only read here).
  const options = (keepalive) => {
    const client = new CredvaultClient('127.0.0.1:1', { tls: false, keepalive });
    const { internalChannel } = client.stub.getChannel();
    client.close();
    return [internalChannel.options['grpc.keepalive_time_ms'], internalChannel.options['grpc.keepalive_timeout_ms']];
  };
  assert.deepEqual(KEEPALIVE, { time: 20, timeout: 10 });
  assert.deepEqual(options(undefined), [20000, 10000]);
  assert.deepEqual(options({ time: 1, timeout: 0.5 }), [1000, 500]);
  assert.deepEqual(options(null), [undefined, undefined]);
});

test('create, get headers, verify, delete', { skip }, async (t) => {
  const client = new CredvaultClient(address, { tls: false });
  t.after(() => client.close());
  const ids = { tenant_id: `node-${randomUUID().slice(0, 8)}`, connection_id: 'jc' };

  const created = await client.createConnection({ ...ids, provider: 'jumpcloud', credentials: { api_key: key } });
  assert.equal(created.status, 'CONNECTION_STATUS_ACTIVE');
  assert.ok(!JSON.stringify(created).includes(key), 'a Connection never holds the secret');

  const auth = await client.getAuthHeaders(ids);
  assert.equal(auth.headers['x-api-key'], key);
  assert.match(auth.base_url, /\/api$/);

  const verified = await client.verifyConnection(ids);
  assert.equal(verified.outcome.ok, true);
  assert.equal(verified.connection.status, 'CONNECTION_STATUS_ACTIVE');

  const listed = [];
  for await (const connection of client.iterConnections({ tenant_id: ids.tenant_id, page_size: 1 })) {
    listed.push(connection.connection_id);
  }
  assert.deepEqual(listed, ['jc']);

  await client.deleteConnection(ids);
  await assert.rejects(client.getAuthHeaders(ids), (error) => {
    assert.ok(error instanceof CredvaultError);
    assert.equal(error.codeName, 'NOT_FOUND');
    return true;
  });
});

test('errors carry the rich details', { skip }, async (t) => {
  const client = new CredvaultClient(address, { tls: false });
  t.after(() => client.close());

  await assert.rejects(
    client.createConnection({ tenant_id: '../x', connection_id: 'a/b', provider: 'jumpcloud' }),
    (error) => {
      assert.equal(error.codeName, 'INVALID_ARGUMENT');
      const fields = error.violations.map((v) => v.field);
      assert.ok(fields.includes('tenant_id') && fields.includes('connection_id'), fields.join());
      return true;
    },
  );

  const rejectedKey = `jca_${randomUUID().replaceAll('-', '')}`;
  await assert.rejects(
    client.createConnection({ tenant_id: 'node', provider: 'jumpcloud', credentials: { api_key: rejectedKey } }),
    (error) => {
      assert.equal(error.codeName, 'FAILED_PRECONDITION');
      assert.equal(error.reason, 'CREDENTIALS_REJECTED');
      assert.equal(error.metadata.provider, 'jumpcloud');
      assert.ok(error.helpLinks[0].startsWith('https://'));
      assert.ok(!error.message.includes(rejectedKey));
      return true;
    },
  );
});

test('connect sessions: a link for a person, then its state', { skip }, async (t) => {
  const client = new CredvaultClient(address, { tls: false });
  t.after(() => client.close());
  const tenant_id = `node-${randomUUID().slice(0, 8)}`;

  const made = await client.createConnectSession({ tenant_id, providers: ['jumpcloud'], ttl: { seconds: 90 } });
  assert.match(made.connect_url, /^http/);
  assert.equal(made.state, 'CONNECT_SESSION_STATE_PENDING');
  const got = await client.getConnectSession({ tenant_id, session_id: made.session_id });
  assert.equal(got.connect_url, '', 'the link is only in the create answer');
  assert.deepEqual(got.providers, ['jumpcloud']);
  assert.equal(Number(got.expires_at.seconds) - Number(got.created_at.seconds), 90);

  await assert.rejects(client.getConnectSession({ tenant_id, session_id: randomUUID() }), (error) => {
    assert.equal(error.codeName, 'NOT_FOUND');
    return true;
  });
});

test('watch events: live, then replayed after a cursor', { skip }, async (t) => {
  const client = new CredvaultClient(address, { tls: false });
  t.after(() => client.close());
  const tenant_id = `node-${randomUUID().slice(0, 8)}`;
  const created = [];
  const create = async () => {
    const connection_id = `c${created.length}`;
    await client.createConnection({ tenant_id, connection_id, provider: 'jumpcloud', credentials: { api_key: key } });
    created.push(connection_id);
  };

  // Watch from now: create connections until the watch, once in place, sees one.
  const live = client.watchEvents({ tenant_id }, { timeout: 30 })[Symbol.asyncIterator]();
  const first = live.next();
  let seen = null;
  while (seen === null) {
    await create();
    seen = await Promise.race([first, new Promise((resolve) => setTimeout(() => resolve(null), 200))]);
  }
  const event = seen.value;
  assert.equal(event.type, 'CONNECTION_EVENT_TYPE_CREATED');
  assert.ok(created.includes(event.connection_id));
  await live.return();

  // Resume after it: the later creations, then a change made now.
  const replay = client.watchEvents({ tenant_id, after: event.cursor }, { timeout: 30 });
  await client.deleteConnection({ tenant_id, connection_id: event.connection_id });
  const replayed = [];
  for await (const next of replay) {
    replayed.push(`${next.type}:${next.connection_id}`);
    if (next.type === 'CONNECTION_EVENT_TYPE_DELETED') break;
  }
  const later = created.slice(created.indexOf(event.connection_id) + 1);
  assert.deepEqual(replayed, [
    ...later.map((id) => `CONNECTION_EVENT_TYPE_CREATED:${id}`),
    `CONNECTION_EVENT_TYPE_DELETED:${event.connection_id}`,
  ]);

  await assert.rejects(
    client.watchEvents({ tenant_id, after: 'djE6MDAwMDAwMDAwMDAwMDAwMDoxOjE3NjQ1MDAwMDAwMDA' }).next(),
    (error) => error instanceof CredvaultError && error.codeName === 'OUT_OF_RANGE',
  );
});
