import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { curl } from '../support/curl.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';

const MAC = '0004f2000001';
const UA = `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${MAC}) Type/Application`;
const AUTH = ['-u', 'acme:acme-password-1'];
const BASIC = `Basic ${Buffer.from('acme:acme-password-1').toString('base64')}`;

let server: ServerProcess;
let ctx: AdminContext;
let scratch: string;

before(async () => {
  const dataDir = tempDir();
  scratch = tempDir();
  ctx = await openAdminContext({ dataDir });
  await addTenant(ctx, 'acme', { password: 'acme-password-1' });
  server = await startServer({ dataDir });
});
after(async () => {
  await server?.stop();
  await ctx?.store.close();
});

function put(path: string, body: Buffer | string, extra: string[] = []) {
  const file = join(scratch, `b-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, body);
  return curl(`${server.httpUrl}/${path}`, [...AUTH, '-A', UA, '-T', file, ...extra]);
}
const head = (path: string) => curl(`${server.httpUrl}/${path}`, [...AUTH, '-A', UA, '-I']);
const get = (path: string) => curl(`${server.httpUrl}/${path}`, [...AUTH, '-A', UA]);

describe('phone logs', () => {
  test("the phone's cycle: HEAD 404, whole PUT, HEAD gives the length, ranged PUTs append", () => {
    const path = `logs/${MAC}-app.log`;
    assert.equal(head(path).status, 404);
    const first = '0101000002|so   |*|00|---------- Initial log entry ----------\n';
    assert.equal(put(path, first).status, 201);
    assert.equal(head(path).headers['content-length'], String(first.length));
    const second = '0101000003|cfg  |4|00|Prm|Parameter reg.1.address requested type 1\n';
    const r = put(path, second, ['-H', `Content-Range: bytes ${first.length}-${first.length + second.length - 1}/*`]);
    assert.equal(r.status, 204);
    const whole = get(path);
    assert.equal(whole.status, 200);
    assert.equal(whole.text, first + second);
    // A whole-file PUT without a range appends too: the phone's append mode, polyprov's default.
    const third = '0101000004|copy |5|00|File transfer failed\n';
    assert.equal(put(path, third).status, 204);
    assert.equal(get(path).text, first + second + third);
  });

  test('a retried chunk is not stored twice; a gap, a different text at the same place, and bad ranges are refused', () => {
    const path = `logs/${MAC}-boot.log`;
    const a = Buffer.from('aaaaaaaaaa');
    const b = Buffer.from('bbbbbbbbbb');
    assert.equal(put(path, a, ['-H', 'Content-Range: bytes 0-9/*']).status, 201);
    assert.equal(put(path, a, ['-H', 'Content-Range: bytes 0-9/*']).status, 204, 'the same chunk again');
    assert.equal(put(path, Buffer.concat([a.subarray(5), b]), ['-H', 'Content-Range: bytes 5-19/*']).status, 204, 'overlapping retry');
    assert.equal(get(path).text, 'aaaaaaaaaabbbbbbbbbb');
    const gap = put(path, 'zz', ['-H', 'Content-Range: bytes 25-26/*']);
    assert.equal(gap.status, 409);
    assert.match(gap.text, /resend from byte 20/);
    assert.equal(put(path, 'XXXXX', ['-H', 'Content-Range: bytes 15-19/*']).status, 409, 'not the log the phone is continuing');
    assert.equal(put(path, 'zz', ['-H', 'Content-Range: bytes 20-29/*']).status, 400, 'range and body lengths differ');
    assert.equal(put(path, 'zz', ['-H', 'Content-Range: bytes=oops']).status, 400);
    assert.equal(get(path).text, 'aaaaaaaaaabbbbbbbbbb', 'nothing refused was stored');
  });

  test('50 phones appending 200 chunks each in parallel: every log byte for byte, never interleaved', async () => {
    const url = new URL(server.httpUrl);
    const phones = Array.from({ length: 50 }, (_, i) => `0004f2${(0x100 + i).toString(16).padStart(6, '0')}`);
    const expected = new Map<string, Buffer>();
    const send = (mac: string, offset: number, chunk: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: 'PUT',
            path: `/logs/${mac}-app.log`,
            agent: false,
            headers: {
              authorization: BASIC,
              'user-agent': `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${mac}) Type/Application`,
              'content-range': `bytes ${offset}-${offset + chunk.length - 1}/*`,
              'content-length': chunk.length,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end(chunk);
      });
    await Promise.all(
      phones.map(async (mac) => {
        const parts: Buffer[] = [];
        let offset = 0;
        for (let i = 0; i < 200; i++) {
          const chunk = Buffer.from(`${String(i).padStart(4, '0')}|${mac}|${randomBytes(8 + (i % 50)).toString('hex')}\n`);
          assert.ok([201, 204].includes(await send(mac, offset, chunk)));
          parts.push(chunk);
          offset += chunk.length;
        }
        expected.set(mac, Buffer.concat(parts));
      }),
    );
    for (const mac of phones) {
      const r = curl(`${server.httpUrl}/logs/${mac}-app.log`, ['-u', 'acme:acme-password-1']);
      assert.ok(r.body.equals(expected.get(mac)!), `log of ${mac} matches`);
    }
  });
});
