'use strict';
// Connects a JumpCloud account, prints which headers a worker would send, and removes it again.
//   CREDVAULT_ADDRESS=127.0.0.1:50051 JUMPCLOUD_API_KEY=jca_... node example.js
const { CredvaultClient } = require('.');

async function main() {
  const client = new CredvaultClient(process.env.CREDVAULT_ADDRESS ?? '127.0.0.1:50051', { tls: false });
  const ids = { tenant_id: 'acme', connection_id: 'jumpcloud-example' };
  try {
    const connection = await client.createConnection({
      ...ids,
      provider: 'jumpcloud',
      credentials: { api_key: process.env.JUMPCLOUD_API_KEY },
    });
    console.log(`created ${connection.connection_id}: ${connection.status}`);
    const { headers, base_url } = await client.getAuthHeaders(ids);
    console.log(`call ${base_url} with headers: ${Object.keys(headers).sort().join(', ')}`);
    await client.deleteConnection(ids);
    console.log('deleted');
  } catch (error) {
    console.error(`${error.message}${error.reason ? ` (${error.reason})` : ''}`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}

main();
