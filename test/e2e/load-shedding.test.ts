// Load shedding on a real `polyprov serve`: with --max-in-flight 2, two phone uploads held open
// half-way (raw TCP PUTs that promise 1000 bytes and send 100) fill the worker, so the next phone
// is told 503 with a Retry-After it can honour, until the held uploads go away. With the default
// limit, a burst of phones is served normally.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { curlAsync } from '../support/curl-async.js';
import type { CurlResult } from '../support/curl.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

const PASSWORD = 'acme-shed-pw-1';
const UPLOADERS = ['0004f2080001', '0004f2080002'];
const READER = '0004f2080003';
const ua = (mac: string) => `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${mac}) Type/Application`;

let dataDir: string;
let ctx: AdminContext;

before(async () => {
  dataDir = tempDir();
  ctx = await openAdminContext({ dataDir });
  const { tenant } = await addTenant(ctx, 'acme', { password: PASSWORD });
  for (const mac of [...UPLOADERS, READER]) await addDevice(ctx, tenant, mac, {});
});

after(async () => {
  await ctx?.store.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function getMaster(server: ServerProcess, mac = READER): Promise<CurlResult> {
  return curlAsync(`${server.httpUrl}/000000000000.cfg`, ['-u', `acme:${PASSWORD}`, '-A', ua(mac)]);
}

/** A phone's log upload, stopped after 100 of its 1000 bytes: the request stays in flight. */
async function heldUpload(server: ServerProcess, mac: string): Promise<{ socket: Socket; answered: () => string }> {
  const { port } = new URL(server.httpUrl);
  const socket = connect(Number(port), '127.0.0.1');
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    [
      `PUT /logs/${mac}-app.log HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      `Authorization: Basic ${Buffer.from(`acme:${PASSWORD}`).toString('base64')}`,
      `User-Agent: ${ua(mac)}`,
      'Content-Type: text/plain',
      'Content-Length: 1000',
      '',
      '',
    ].join('\r\n') + '0'.repeat(99) + '\n',
  );
  return { socket, answered: () => answer };
}

describe('serve --max-in-flight 2 --retry-after 5', () => {
  let server: ServerProcess;
  const held: Socket[] = [];

  before(async () => {
    server = await startServer({ dataDir, args: ['--no-tftp', '--no-ftp', '--no-ftps', '--max-in-flight', '2', '--retry-after', '5', '--workers', '1'] });
  });
  after(async () => {
    for (const s of held) s.destroy();
    await server?.stop();
  });

  test('two uploads in flight: the next phone gets 503 with Retry-After 5 to 7; it is served once they go', async () => {
    assert.equal((await getMaster(server)).status, 200, 'served before anything is held');

    const uploads = await Promise.all(UPLOADERS.map((mac) => heldUpload(server, mac)));
    held.push(...uploads.map((u) => u.socket));
    // The server counts a request once it has read its headers: wait (bounded) until it sheds.
    const first = await waitFor('a 503 while two uploads are held', async () => {
      const r = await getMaster(server);
      return r.status === 503 ? r : undefined;
    });
    const shed = [first, await getMaster(server), await getMaster(server)];
    for (const r of shed) {
      assert.equal(r.status, 503, 'still shedding while the uploads are held');
      const retryAfter = r.headers['retry-after'] ?? '';
      assert.match(retryAfter, /^\d+$/, `Retry-After is a whole number of seconds: "${retryAfter}"`);
      assert.ok(Number(retryAfter) >= 5 && Number(retryAfter) <= 7, `Retry-After ${retryAfter} is between 5 and 7`);
    }
    assert.deepEqual(uploads.map((u) => u.answered()), ['', ''], 'the held uploads are still waiting for their bodies, unanswered');
    const started = server.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('load shedding started'));
    assert.equal(started.length, 1, 'one log line for the episode, not one per 503');

    for (const s of held.splice(0)) s.destroy();
    const back = await waitFor('a 200 once the held uploads are gone', async () => {
      const r = await getMaster(server);
      return r.status === 200 ? r : undefined;
    });
    assert.match(back.text, /<APPLICATION /);
  });
});

describe('serve with the default limit', () => {
  let server: ServerProcess;
  const held: Socket[] = [];

  before(async () => {
    server = await startServer({ dataDir, args: ['--no-tftp', '--no-ftp', '--no-ftps', '--workers', '1'] });
  });
  after(async () => {
    for (const s of held) s.destroy();
    await server?.stop();
  });

  test('twenty phones at once are all served, beside two slow uploads', async () => {
    held.push(...(await Promise.all(UPLOADERS.map((mac) => heldUpload(server, mac)))).map((u) => u.socket));
    const answers = await Promise.all(Array.from({ length: 20 }, () => getMaster(server)));
    assert.deepEqual(
      answers.map((r) => r.status),
      Array.from({ length: 20 }, () => 200),
    );
  });
});
