// Load shedding in the real HTTP edge, in this process on the real core and store: requests held
// in flight by stalled uploads on raw sockets, then a flood of real curl processes.

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { addTenant } from '../../../src/admin/tenants.js';
import { buildHttpEdge, type HttpEdgeOptions } from '../../../src/servers/http/http-edge.js';
import { loadSheddingOf, type LoadShedding } from '../../../src/servers/http/load-shedding.js';
import { curlAsync } from '../../support/curl-async.js';
import { startInProcessCore, type InProcessCore } from '../../support/in-process-core.js';
import { waitFor } from '../../support/wait-for.js';

const AUTH = ['-u', 'acme:acme-password-1'];
const BASIC = `Basic ${Buffer.from('acme:acme-password-1').toString('base64')}`;
const BODY_LENGTH = 1000;

let env: InProcessCore;
const edges: ReturnType<typeof buildHttpEdge>[] = [];
const sockets: Socket[] = [];

before(async () => {
  env = await startInProcessCore();
  await addTenant(env.ctx, 'acme', { password: 'acme-password-1' });
});
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(edges.map((e) => e.close()));
  await env?.close();
});

async function startEdge(opts: Partial<HttpEdgeOptions>) {
  const app = buildHttpEdge(env.core, { logger: env.logger, ...opts });
  edges.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, port, url: `http://127.0.0.1:${port}`, shedding: loadSheddingOf(app) };
}

/** A log upload that announced 1000 bytes, sent 100 and waits: in flight until finished or cut. */
interface StalledUpload {
  socket: Socket;
  /** Sends the other 900 bytes; resolves with the status the edge answered. */
  finish(): Promise<number>;
}

async function stalledUpload(port: number, mac: string): Promise<StalledUpload> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write([`PUT /logs/${mac}-app.log HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: ${BASIC}`, `Content-Length: ${BODY_LENGTH}`, '', 'x'.repeat(100)].join('\r\n'));
  return {
    socket,
    async finish() {
      socket.write('x'.repeat(BODY_LENGTH - 100));
      const head = await waitFor('the answer to the finished upload', () => (received.includes('\r\n\r\n') ? received : undefined), 10_000);
      socket.end();
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    },
  };
}

async function inFlightBecomes(shedding: LoadShedding, n: number) {
  await waitFor(`${n} requests in flight`, () => (shedding.inFlight() === n ? true : undefined), 10_000);
}

const mac = (i: number) => `0004f2${String(i).padStart(6, '0')}`;
const flood = (url: string, n: number) => Promise.all(Array.from({ length: n }, () => curlAsync(`${url}/000000000000.cfg`, AUTH)));
const sheddingLogs = (msg: string) => env.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(msg));

describe('load shedding', { timeout: 60_000 }, () => {
  test('past maxInFlight every request gets 503 with a jittered Retry-After, and the edge recovers', async () => {
    const edge = await startEdge({ maxInFlight: 4 });
    const shedding = edge.shedding!;
    assert.ok(shedding, 'installed');
    const held = await Promise.all([1, 2, 3, 4].map((i) => stalledUpload(edge.port, mac(i))));
    await inFlightBecomes(shedding, 4);

    const answers = await flood(edge.url, 40);
    const retryAfters = new Set<number>();
    for (const r of answers) {
      assert.equal(r.status, 503, r.rawHeaders);
      assert.match(r.headers['retry-after'] ?? '', /^\d+$/);
      const seconds = Number(r.headers['retry-after']);
      assert.ok(seconds >= 10 && seconds <= 15, `Retry-After ${seconds} is the default 10 s plus at most 5 s of jitter`);
      retryAfters.add(seconds);
      assert.equal(r.headers.connection, 'close');
      assert.equal(r.text, 'server busy, retry later\n');
    }
    // Six possible values over 40 answers: all equal would mean no jitter (chance 6^-39).
    assert.ok(retryAfters.size > 1, `jitter spreads the retries: ${[...retryAfters].join(', ')}`);
    assert.equal(shedding.inFlight(), 4, 'shed requests never counted');
    assert.equal(shedding.shedCount(), 40);
    const started = sheddingLogs('load shedding started');
    assert.equal(started.length, 1, 'one line when shedding starts, none per request');
    assert.equal(started[0]!.level, 40);

    // Two held uploads complete normally, two clients go away mid-body.
    assert.deepEqual(await Promise.all([held[0]!.finish(), held[1]!.finish()]), [201, 201]);
    held[2]!.socket.destroy();
    held[3]!.socket.destroy();
    await inFlightBecomes(shedding, 0);
    const again = await waitFor('the master file served again', async () => {
      const r = await curlAsync(`${edge.url}/000000000000.cfg`, AUTH);
      return r.status === 200 ? r : undefined;
    });
    assert.match(again.text, /<APPLICATION /);
    const stopped = await waitFor('the line saying shedding stopped', () => sheddingLogs('load shedding stopped')[0], 10_000);
    assert.equal(stopped.level, 30);
    assert.equal(stopped.shed, 40);
    assert.equal(sheddingLogs('load shedding').length, 2, 'one start line and one stop line in all');
    assert.equal(shedding.inFlight(), 0);
  });

  test('clients that go away release their slot exactly once', async () => {
    const edge = await startEdge({ maxInFlight: 2, retryAfterSeconds: 3 });
    const shedding = edge.shedding!;
    for (let round = 0; round < 3; round++) {
      const held = await Promise.all([1, 2].map((i) => stalledUpload(edge.port, mac(10 + i))));
      await inFlightBecomes(shedding, 2);
      const refused = await curlAsync(`${edge.url}/000000000000.cfg`, AUTH);
      assert.equal(refused.status, 503, `round ${round}: a third request is shed, so no slot was released twice`);
      assert.ok(['3', '4'].includes(refused.headers['retry-after'] ?? ''), `Retry-After ${refused.headers['retry-after']} within 3 + 3/2`);
      // Shed before authentication: a wrong password costs no credential check, and learns nothing.
      assert.equal((await curlAsync(`${edge.url}/000000000000.cfg`, ['-u', 'acme:wrong-password'])).status, 503);
      for (const h of held) h.socket.destroy();
      await inFlightBecomes(shedding, 0);
      assert.equal((await curlAsync(`${edge.url}/000000000000.cfg`, AUTH)).status, 200);
    }
    // Completed requests on one kept-alive connection release their slot too.
    const many = await curlAsync(`${edge.url}/000000000000.cfg`, [...AUTH, `${edge.url}/000000000000.cfg`, `${edge.url}/000000000000.cfg`]);
    assert.equal(many.status, 200);
    await inFlightBecomes(shedding, 0);
  });

  test('off (maxInFlight undefined or 0): nothing is ever shed', async () => {
    const unset = await startEdge({});
    const zero = await startEdge({ maxInFlight: 0 });
    assert.equal(unset.shedding, null);
    assert.equal(zero.shedding, null);
    for (const [e, edge] of [unset, zero].entries()) {
      const held = await Promise.all([1, 2, 3, 4].map((i) => stalledUpload(edge.port, mac(20 + 10 * e + i))));
      const answers = await flood(edge.url, 40);
      assert.deepEqual(
        answers.map((r) => r.status),
        answers.map(() => 200),
      );
      assert.deepEqual(await Promise.all(held.map((h) => h.finish())), [201, 201, 201, 201]);
    }
  });

  test('settings that make no sense are refused with what to give instead', () => {
    assert.throws(() => buildHttpEdge(env.core, { logger: env.logger, maxInFlight: -1 }), /maxInFlight must be a whole number of requests, 0 to turn load shedding off \(got -1\)/);
    assert.throws(() => buildHttpEdge(env.core, { logger: env.logger, maxInFlight: 4, retryAfterSeconds: 0.5 }), /retryAfterSeconds must be a whole number of seconds, at least 1/);
  });
});
