// Child process for store.test.ts: opens the store (running migrations, possibly at the same moment
// as its siblings) and writes, as a cluster worker or a CLI invocation would.
// Usage: node --import tsx concurrent-writer.ts <dataDir> <databaseUrl|-> <index> <rounds>
// Prints `ready`, waits for a line on stdin (so that all siblings start together), then works.

import { openStore } from '../../src/store/open-store.js';

const [dataDir, url, indexArg, roundsArg] = process.argv.slice(2);
const index = Number(indexArg);
const rounds = Number(roundsArg);

process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.pause();

const store = await openStore({ dataDir: dataDir!, databaseUrl: url === '-' ? undefined : url });
try {
  const tenant = await store.createTenant({
    slug: `w${index}`,
    name: `Writer ${index}`,
    provUsername: `w${index}`,
    provPasswordHash: 'x',
    provDigestHa1: 'x',
  });
  for (let r = 0; r < rounds; r++) {
    await store.setParameters(tenant.id, { kind: 'tenant', id: tenant.id }, { [`p.${r}`]: String(r) });
    await store.recordSightings([
      { tenantId: tenant.id, mac: `0004f2${String(index).padStart(2, '0')}${String(r).padStart(4, '0')}`, at: new Date().toISOString() },
    ]);
  }
  process.stdout.write(JSON.stringify({ ok: true, tenantId: tenant.id }) + '\n');
} finally {
  await store.close();
}
