import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bootPhone, statusOf, VVX_450 } from '../support/phone-boot.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

// The scaled-out shape: the same server and CLI on PostgreSQL instead of the embedded SQLite.
let pgc: ThrowawayPostgres;
let server: ServerProcess;
let dataDir: string;
const admin = (...args: string[]) => {
  const r = cli(dataDir, ['--database-url', pgc.url, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

before(async () => {
  pgc = await startThrowawayPostgres();
  dataDir = tempDir();
  admin('tenant', 'add', 'acme', '--password', 'acme-password-1');
  admin('site', 'add', 'hq');
  admin('device', 'add', '0004f2000001', '--site', 'hq');
  admin('param', 'set', '--force', 'feature.layer=tenant');
  admin('param', 'set', '--force', '--site', 'hq', 'feature.layer=site');
  server = await startServer({ dataDir, args: ['--database-url', pgc.url] });
});

after(async () => {
  await server?.stop();
  await pgc?.stop();
});

test('a phone boots from a server whose store is PostgreSQL, and admin changes reach it at once', async () => {
  const boot = () => bootPhone({ baseUrl: server.httpUrl, auth: ['--digest', '-u', 'acme:acme-password-1'], phone: { ...VVX_450, mac: '0004f2000001' } });
  const r = boot();
  assert.equal(statusOf(r, '000000000000.cfg'), 200);
  assert.equal(r.effective.get('feature.layer'), 'site');
  admin('param', 'set', '--force', '--device', '0004f2000001', 'feature.layer=device');
  assert.equal(boot().effective.get('feature.layer'), 'device');
  await waitFor('inventory on PostgreSQL', async () => {
    const out = cli(dataDir, ['--database-url', pgc.url, 'inventory', '--json']).stdout;
    const d = (JSON.parse(out) as { mac: string; model: string | null }[]).find((x) => x.mac === '0004f2000001');
    return d?.model === 'VVX_450' ? d : undefined;
  }, 15_000);
});
