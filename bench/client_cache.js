'use strict';
// The Node.js side of bench/client_cache.py: GetAuthHeaders through the Node client, cached or not, from
// `callers` concurrent loops for `seconds`; prints {"calls", "seconds", "p50_us"} as one JSON line.
// node bench/client_cache.js <address> <tenant> <connection> <cached 0|1> <callers> <seconds>

const path = require('node:path');
const { CredvaultClient } = require(path.join(__dirname, '..', 'clients', 'node', 'src'));

async function main() {
  const [address, tenant_id, connection_id, cached, callers, seconds] = process.argv.slice(2);
  const client = new CredvaultClient(address, { tls: false, cacheAuthHeaders: cached === '1' });
  const request = { tenant_id, connection_id };
  await client.getAuthHeaders(request); // connected, and cached when the cache is on
  const latencies = [];
  let calls = 0;
  const began = process.hrtime.bigint();
  const until = began + BigInt(Math.round(Number(seconds) * 1e9));
  async function loop() {
    for (;;) {
      const start = process.hrtime.bigint();
      if (start >= until) return;
      await client.getAuthHeaders(request);
      latencies.push(Number(process.hrtime.bigint() - start) / 1000);
      calls += 1;
    }
  }
  await Promise.all(Array.from({ length: Number(callers) }, loop));
  const elapsed = Number(process.hrtime.bigint() - began) / 1e9;
  latencies.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ calls, seconds: elapsed, p50_us: latencies[Math.floor(latencies.length / 2)] })}\n`);
  client.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
