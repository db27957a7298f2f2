import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import type { Tenant } from '../../src/store/store.js';
import { curl } from '../support/curl.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

const MAC = '0004f2000001';
let server: ServerProcess;
let ctx: AdminContext;
let acme: Tenant;

before(async () => {
  const dataDir = tempDir();
  ctx = await openAdminContext({ dataDir });
  acme = (await addTenant(ctx, 'acme', { password: 'acme-password-1' })).tenant;
  server = await startServer({ dataDir, args: ['--idle-timeout-ms', '800'] });
});
after(async () => {
  await server?.stop();
  await ctx?.store.close();
});

test('an upload that stalls is cut off, stores nothing, and the server carries on', async () => {
  const port = Number(new URL(server.httpUrl).port);
  const closedAfter = await new Promise<number>((resolve, reject) => {
    const started = Date.now();
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(
        [
          `PUT /overrides/${MAC}-phone.cfg HTTP/1.1`,
          'Host: 127.0.0.1',
          `Authorization: Basic ${Buffer.from('acme:acme-password-1').toString('base64')}`,
          'Content-Length: 1000',
          '',
          '<PHONE_CONFIG><OVERRIDES a.b="1"',
        ].join('\r\n'),
      );
    });
    sock.on('data', () => undefined);
    sock.on('close', () => resolve(Date.now() - started));
    sock.on('error', () => undefined);
    setTimeout(() => {
      sock.destroy();
      reject(new Error('the server kept a stalled upload open for 10 s'));
    }, 10_000);
  });
  assert.ok(closedAfter >= 700, `closed after ${closedAfter} ms, not before the idle timeout`);
  assert.deepEqual(await ctx.store.listPhoneUploads(acme.id, MAC), [], 'nothing partial was stored');
  assert.equal(curl(`${server.httpUrl}/000000000000.cfg`, ['-u', 'acme:acme-password-1']).status, 200);
});

test('the interrupted upload is logged as such, not as a server error', async () => {
  await waitFor('the interruption in the log', () => (server.logs.some((l) => l.msg === 'upload interrupted; nothing stored') ? true : undefined));
  assert.deepEqual(server.logs.filter((l) => (l.level as number) >= 50), []);
});
