// `serve --firmware-max-unpacked-mib` reaches the admin API: a release zip that unpacks past it is
// refused with 413 and nothing is stored, while the same release under the limit imports.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zipBuffer } from '../support/crafted-zips.js';
import { cli, startServer, type ServerProcess } from '../support/server-process.js';

const MIB = 1024 * 1024;
const TOP = 'UC_Software_6_4_6_1234_release_sig_split';
let server: ServerProcess;
let session: { cookie: string; csrf: string };

async function upload(zip: Buffer): Promise<{ status: number; body: { detail?: string; version?: string } }> {
  const res = await fetch(`${server.adminUrl}/api/v1/tenants/acme/firmware?filename=${TOP}.zip`, {
    method: 'POST',
    headers: { 'content-type': 'application/zip', cookie: session.cookie, 'x-csrf-token': session.csrf },
    body: new Uint8Array(zip),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: (await res.json()) as { detail?: string; version?: string } };
}

before(async () => {
  server = await startServer({ args: ['--firmware-max-unpacked-mib', '2'] });
  assert.equal(cli(server.dataDir, ['tenant', 'add', 'acme', '--password', 'acme-password-1']).code, 0);
  const password = readFileSync(join(server.dataDir, 'initial-admin-password'), 'utf8').trim();
  const res = await fetch(`${server.adminUrl}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  assert.equal(res.status, 200);
  session = { cookie: res.headers.getSetCookie().find((c) => c.startsWith('pp_session='))!.split(';')[0]!, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
});
after(async () => server?.stop());

describe('serve --firmware-max-unpacked-mib', () => {
  test('a release unpacking to 3 MiB is refused with 413 under a 2 MiB limit; 1 MiB imports', async () => {
    const big = await upload(await zipBuffer([[`${TOP}/sip.ver`, '6.4.6.1234\n'], [`${TOP}/3111-44500-001.sip.ld`, Buffer.alloc(3 * MIB)]]));
    assert.equal(big.status, 413, JSON.stringify(big.body));
    assert.match(big.body.detail ?? '', /limit of 2\.00 MiB/);
    const list = cli(server.dataDir, ['firmware', 'list', '-t', 'acme']);
    assert.doesNotMatch(list.stdout, /6\.4\.6\.1234/, 'nothing stored');
    const small = await upload(await zipBuffer([[`${TOP}/sip.ver`, '6.4.6.1234\n'], [`${TOP}/3111-44500-001.sip.ld`, Buffer.alloc(1 * MIB)]]));
    assert.equal(small.status, 201, JSON.stringify(small.body));
    assert.match(cli(server.dataDir, ['firmware', 'list', '-t', 'acme']).stdout, /6\.4\.6\.1234/);
  });
});
