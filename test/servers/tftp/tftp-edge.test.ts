// The TFTP edge in this process, on the real core and store, driven by the raw lossy client over
// loopback: loss and duplication patterns, abandonment, the transfer limit, shutdown, file
// descriptors. The command-line clients and the real server process are in test/e2e/tftp-*.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { addFile } from '../../../src/admin/files.js';
import { addTenant } from '../../../src/admin/tenants.js';
import type { RunningTftpEdge } from '../../../src/servers/tftp/tftp-edge.js';
import { decodePacket, encodeAck, encodeData, encodeRequest, OP_DATA, OP_ERROR, OP_OACK, OP_RRQ, OP_WRQ } from '../../../src/servers/tftp/packet.js';
import { inProcessTftp, type InProcessTftp } from '../../support/tftp-in-process.js';
import { lossyGet, lossyPut, seeded, TftpError, type Fate } from '../../support/tftp-lossy-client.js';
import { openFds, RawUdp } from '../../support/tftp-raw.js';
import { tempDir } from '../../support/server-process.js';
import { waitFor } from '../../support/wait-for.js';

const MAC = '0004f2000001';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let env: InProcessTftp;
/** Reads run on the native pump when it is built (the default), or in TypeScript: both are tested. */
const ENGINES = ['native', 'typescript'] as const;
type Engine = (typeof ENGINES)[number];
const edges = {} as Record<Engine, { edge: RunningTftpEdge; quick: RunningTftpEdge }>;
let edge: RunningTftpEdge;
let quick: RunningTftpEdge;
const blob = randomBytes(300_000);
let baselineFds = 0;

before(async () => {
  env = await inProcessTftp();
  await addTenant(env.ctx, 'acme', { password: 'acme-password-1', tftpSubnets: ['127.0.0.0/8'] });
  await addTenant(env.ctx, 'beta', { password: 'beta-password-1', pathPrefix: 'beta' });
  const dir = tempDir();
  const file = join(dir, 'blob.bin');
  writeFileSync(file, blob);
  const acme = (await env.ctx.store.listTenants()).find((t) => t.slug === 'acme')!;
  const beta = (await env.ctx.store.listTenants()).find((t) => t.slug === 'beta')!;
  await addFile(env.ctx, acme, 'blob.bin', file);
  await addFile(env.ctx, beta, 'blob.bin', file);
  for (const engine of ENGINES) {
    const native = engine === 'native';
    edges[engine] = {
      edge: await env.startEdge({ native }),
      // Short timers, for the tests that wait for timeouts on purpose.
      quick: await env.startEdge({ retransmitMs: 100, retries: 3, maxTransfers: 2, native }),
    };
  }
  ({ edge, quick } = edges.native);
  baselineFds = openFds();
});
after(async () => {
  await env?.close();
});

/** Every fd the transfers opened is closed again (bounded wait: sockets close asynchronously). */
async function fdsBackToBaseline() {
  await waitFor('file descriptors back to the baseline', () => (openFds() <= baselineFds ? true : undefined), 5000);
}

const target = { host: '127.0.0.1', deadlineMs: 20_000 };

for (const engine of ENGINES) {
  describe(engine, () => {
    before(() => {
      ({ edge, quick } = edges[engine]);
    });
    describe('reads through loss and duplication', () => {
      test('every ACK duplicated, nothing lost: each block is sent exactly once (no Sorcerer’s Apprentice)', async () => {
        // timeout 5: no server retransmission can happen in this test, so every extra DATA would be a reaction to a duplicate ACK.
        const { data, stats } = await lossyGet({ ...target, port: edge.port, file: 'blob.bin', timeout: 5, ack: () => 'dup' });
        assert.equal(sha(data), sha(blob));
        assert.equal(stats.dataPackets, Math.floor(blob.length / 512) + 1);
      });

      test('lock-step with a seeded pattern of lost and repeated DATA and ACKs', async () => {
        const rand = seeded(1);
        // Losses cost a server timeout each in lock-step (1 s, the least the timeout option allows): keep them few.
        const lost = new Set([3, 77, 400]);
        const { data } = await lossyGet({
          ...target,
          port: edge.port,
          file: 'blob.bin',
          blksize: 1024,
          timeout: 1,
          data: (b, nth): Fate => (nth === 0 && lost.has(b) ? 'drop' : rand() < 0.05 ? 'dup' : 'pass'),
          ack: (b, nth): Fate => (nth === 0 && b === 150 ? 'drop' : rand() < 0.05 ? 'dup' : 'pass'),
        });
        assert.equal(sha(data), sha(blob));
      });

      for (const windowsize of [4, 16]) {
        test(`windowsize ${windowsize}: lost blocks inside windows are resent from the gap, duplicates ignored`, async () => {
          const rand = seeded(windowsize);
          const { data, stats } = await lossyGet({
            ...target,
            port: edge.port,
            file: 'blob.bin',
            blksize: 1468,
            windowsize,
            tsize: true,
            timeout: 1,
            data: (_b, nth): Fate => (nth === 0 && rand() < 0.03 ? 'drop' : rand() < 0.03 ? 'dup' : 'pass'),
            ack: (): Fate => (rand() < 0.03 ? 'dup' : 'pass'),
          });
          assert.equal(sha(data), sha(blob));
          assert.equal(stats.oack?.get('tsize'), String(blob.length));
          assert.equal(stats.oack?.get('windowsize'), String(windowsize));
        });
      }

      test('a client acknowledging half a window gets the rest again, from the block after its ACK', async () => {
        // The client drops the 3rd block of the first window: it ACKs block 2, and the server must resend from 3.
        const { data, stats } = await lossyGet({ ...target, port: edge.port, file: 'blob.bin', windowsize: 8, timeout: 5, data: (b, nth) => (b === 3 && nth === 0 ? 'drop' : 'pass') });
        assert.equal(sha(data), sha(blob));
        const blocks = Math.floor(blob.length / 512) + 1;
        // Blocks 3..8 went out twice (3 lost, 4..8 dropped by the client as out of order): nothing else did.
        assert.equal(stats.dataPackets, blocks + 6);
      });

      test('a file of exactly N blocks ends with an empty block', async () => {
        const exact = blob.subarray(0, 512 * 40);
        const dir = tempDir();
        writeFileSync(join(dir, 'exact.bin'), exact);
        const acme = (await env.ctx.store.listTenants()).find((t) => t.slug === 'acme')!;
        await addFile(env.ctx, acme, 'exact.bin', join(dir, 'exact.bin'));
        const { data, stats } = await lossyGet({ ...target, port: edge.port, file: '/exact.bin' });
        assert.equal(sha(data), sha(exact));
        assert.equal(stats.dataPackets, 41);
      });
    });
  });
}

describe('writes through loss and duplication', () => {
  for (const windowsize of [1, 8]) {
    test(`windowsize ${windowsize}: an override arrives whole, each block written once`, async () => {
      const rand = seeded(100 + windowsize);
      const body = Buffer.from(`<?xml version="1.0"?><PHONE_CONFIG><OVERRIDES x="${'y'.repeat(20_000)}" w="${windowsize}"/></PHONE_CONFIG>`);
      const lost = new Set([5, 20]);
      await lossyPut(
        {
          ...target,
          port: edge.port,
          file: `overrides/${MAC}-phone.cfg`,
          windowsize,
          tsize: true,
          timeout: 1,
          data: (b, nth): Fate => (nth === 0 && lost.has(b) ? 'drop' : rand() < 0.08 ? 'dup' : 'pass'),
          ack: (b, nth): Fate => (nth === 0 && b === 10 ? 'drop' : rand() < 0.08 ? 'dup' : 'pass'),
        },
        body,
      );
      const back = await lossyGet({ ...target, port: edge.port, file: `overrides/${MAC}-phone.cfg` });
      assert.equal(back.data.toString(), body.toString());
    });
  }

  test('a log written twice is appended to, and the last ACK means it is stored', async () => {
    await lossyPut({ ...target, port: edge.port, file: `logs/${MAC}-boot.log` }, Buffer.from('first line\n'));
    // No wait, no poll: the transfer ended, so the bytes are there.
    await lossyPut({ ...target, port: edge.port, file: `logs/${MAC}-boot.log`, blksize: 8 }, Buffer.from('second line, in blocks of eight bytes\n'));
    const back = await lossyGet({ ...target, port: edge.port, file: `logs/${MAC}-boot.log` });
    assert.equal(back.data.toString(), 'first line\nsecond line, in blocks of eight bytes\n');
  });

  test('an upload announced larger than the limit is refused before any DATA (disk full)', async () => {
    await assert.rejects(
      lossyPut({ ...target, port: edge.port, file: `overrides/${MAC}-web.cfg`, tsize: true }, Buffer.alloc(2 * 1024 * 1024, 0x20)),
      (err: unknown) => err instanceof TftpError && err.code === 3,
    );
  });

  test('a write to a read-only file is refused', async () => {
    await assert.rejects(lossyPut({ ...target, port: edge.port, file: 'blob.bin' }, Buffer.from('x')), (err: unknown) => err instanceof TftpError && err.code === 0);
  });
});

describe('tenants and listeners', () => {
  test('a tenant without TFTP subnets is not served on the shared listener, and is on a listener bound to it', async () => {
    await assert.rejects(lossyGet({ ...target, port: edge.port, file: 'beta/blob.bin' }), (err: unknown) => err instanceof TftpError && err.code === 2);
    const bound = await env.startEdge({ tenant: 'beta' });
    const { data } = await lossyGet({ ...target, port: bound.port, file: 'blob.bin' });
    await bound.close();
    assert.equal(sha(data), sha(blob));
    assert.ok(env.logs.some((l) => l.msg === 'tftp request refused' && l.ip === '127.0.0.1' && l.file === 'beta/blob.bin'), 'the refusal is logged');
  });
});

for (const engine of ENGINES) {
  describe(engine, () => {
    before(() => {
      ({ edge, quick } = edges[engine]);
    });
    describe('timeouts, limits and shutdown', () => {
      test('a client that stops acknowledging is given up after the retries, once logged, and its socket closed', async () => {
        const abandoned = () => env.logs.filter((l) => l.msg === 'tftp transfer abandoned: no ACK' && l.file === 'blob.bin');
        const earlier = abandoned().length;
        const raw = await RawUdp.open();
        raw.send(encodeRequest(OP_RRQ, 'blob.bin', 'octet'), quick.port);
        // 1 + 3 retransmissions of block 1, then silence.
        const got: number[] = [];
        for (let i = 0; i < 6; i++) {
          const p = await raw.next(1000);
          if (!p) break;
          const d = decodePacket(p.msg);
          assert.equal(d.opcode, OP_DATA);
          if (d.opcode === OP_DATA) got.push(d.block);
        }
        assert.deepEqual(got, [1, 1, 1, 1]);
        raw.close();
        await waitFor('the abandonment log line', () => (abandoned().length > earlier ? true : undefined));
        const lines = abandoned().slice(earlier);
        assert.equal(lines.length, 1);
        assert.equal(lines[0]!.engine, engine === 'native' ? 'native' : undefined);
        await fdsBackToBaseline();
      });

      test('an upload that stops half-way stores nothing', async () => {
        const abandoned = () => env.logs.filter((l) => l.msg === 'tftp upload abandoned: no DATA; nothing stored').length;
        const earlier = abandoned();
        const raw = await RawUdp.open();
        raw.send(encodeRequest(OP_WRQ, `contacts/${MAC}-directory.xml`, 'octet'), quick.port);
        const ack0 = await raw.next(2000);
        assert.ok(ack0);
        raw.send(encodeData(1, Buffer.alloc(512, 0x41)), ack0.from.port);
        raw.send(encodeData(2, Buffer.alloc(512, 0x42)), ack0.from.port);
        await waitFor('the abandonment log line', () => (abandoned() > earlier ? true : undefined));
        raw.close();
        await assert.rejects(lossyGet({ ...target, port: edge.port, file: `contacts/${MAC}-directory.xml` }), (err: unknown) => err instanceof TftpError && err.code === 1);
        await fdsBackToBaseline();
      });

      test('beyond maxTransfers a request gets "server busy, retry"', async () => {
        const stalled = await Promise.all([RawUdp.open(), RawUdp.open()]);
        for (const s of stalled) {
          s.send(encodeRequest(OP_RRQ, 'blob.bin', 'octet'), quick.port);
          assert.ok(await s.next(2000), 'the first two transfers start');
        }
        const third = await RawUdp.open();
        third.send(encodeRequest(OP_RRQ, 'blob.bin', 'octet'), quick.port);
        const busy = await third.next(2000);
        assert.ok(busy);
        assert.deepEqual(decodePacket(busy.msg), { opcode: OP_ERROR, code: 0, message: 'server busy, retry' });
        for (const s of [...stalled, third]) s.close();
        // Once the stalled ones are abandoned, the slots are free again.
        await waitFor('a free slot', async () => {
          const r = await lossyGet({ ...target, port: quick.port, file: 'blob.bin', windowsize: 16, deadlineMs: 5000 }).catch(() => undefined);
          return r && sha(r.data) === sha(blob) ? true : undefined;
        }, 8000);
        await fdsBackToBaseline();
      });

      test('a repeated request from the same client port does not start a second transfer', async () => {
        const raw = await RawUdp.open();
        const rrq = encodeRequest(OP_RRQ, 'blob.bin', 'octet', [['blksize', '1024']]);
        raw.send(rrq, edge.port);
        raw.send(rrq, edge.port);
        const first = await raw.next(2000);
        assert.ok(first);
        assert.equal(decodePacket(first.msg).opcode, OP_OACK);
        assert.equal(await raw.next(300), null, 'no second OACK from a second transfer');
        raw.send(Buffer.from([0, OP_ERROR, 0, 0, 0x62, 0x79, 0x65, 0]), first.from.port);
        raw.close();
      });

      test('packets from another port than the client’s do not disturb a transfer', async () => {
        const raw = await RawUdp.open();
        raw.send(encodeRequest(OP_RRQ, 'blob.bin', 'octet'), edge.port);
        const d1 = await raw.next(2000);
        assert.ok(d1);
        const stray = await RawUdp.open();
        // A stray ACK of block 1 and an ERROR to the transfer's port: they must change nothing.
        stray.send(encodeAck(1), d1.from.port);
        stray.send(Buffer.from([0, OP_ERROR, 0, 0, 0x78, 0]), d1.from.port);
        assert.equal(await raw.next(300), null, 'the stray ACK did not move the transfer');
        // The transfer socket is connected to the client: the kernel refuses the stray, the server never sees it.
        assert.equal(stray.drain().length, 0);
        stray.close();
        // The real client goes on.
        const chunks = [(decodePacket(d1.msg) as { data: Buffer }).data];
        for (let block = 1; ; block++) {
          raw.send(encodeAck(block), d1.from.port);
          const p = await raw.next(2000);
          assert.ok(p, `block ${block + 1} arrives`);
          const d = decodePacket(p.msg);
          assert.equal(d.opcode, OP_DATA);
          if (d.opcode !== OP_DATA) break;
          chunks.push(d.data);
          if (d.data.length < 512) {
            raw.send(encodeAck(d.block), d1.from.port);
            break;
          }
          assert.ok(block < 1000, 'bounded');
        }
        assert.equal(sha(Buffer.concat(chunks)), sha(blob));
        raw.close();
      });

      test('close() ends the transfers under way, and frees every socket', async () => {
        const own = await env.startEdge({ native: engine === 'native' });
        const raws = await Promise.all([RawUdp.open(), RawUdp.open(), RawUdp.open()]);
        raws[0]!.send(encodeRequest(OP_RRQ, 'blob.bin', 'octet'), own.port);
        raws[1]!.send(encodeRequest(OP_WRQ, `logs/${MAC}-app.log`, 'octet'), own.port);
        for (const r of raws.slice(0, 2)) assert.ok(await r.next(2000));
        await own.close();
        raws[2]!.send(encodeRequest(OP_RRQ, 'blob.bin', 'octet'), own.port);
        assert.equal(await raws[2]!.next(300), null, 'the listener is closed');
        for (const r of raws) r.close();
        await fdsBackToBaseline();
      });
    });
  });
}

describe('reads of a rotated log', () => {
  test('only the bytes still held are sent', async () => {
    await addTenant(env.ctx, 'gamma', { password: 'gamma-password-1', pathPrefix: 'gamma', logMaxBytes: 1024, logSegments: 0 });
    const gammaEdge = await env.startEdge({ tenant: 'gamma' });
    const lines = Array.from({ length: 60 }, (_, i) => `0517184${String(i).padStart(3, '0')}|so   |4|00|line ${i}\n`);
    for (let i = 0; i < lines.length; i += 10) {
      await lossyPut({ ...target, port: gammaEdge.port, file: `logs/${MAC}-app.log` }, Buffer.from(lines.slice(i, i + 10).join('')));
    }
    const answer = await env.core.handle({ protocol: 'tftp', operation: 'read', target: `/logs/${MAC}-app.log`, ip: '127.0.0.1', listenerTenant: 'gamma' });
    assert.ok(answer.ok && answer.resource.kind === 'stream');
    const res = answer.resource;
    assert.ok((res.heldFrom ?? 0) > 0, 'the log was rotated');
    const held: Buffer[] = [];
    for await (const c of res.open({ start: res.heldFrom!, end: res.size - 1 }) as Readable) held.push(c as Buffer);
    const { data, stats } = await lossyGet({ ...target, port: gammaEdge.port, file: `logs/${MAC}-app.log`, tsize: true });
    assert.equal(data.toString(), Buffer.concat(held).toString());
    assert.ok(data.toString().endsWith(lines.at(-1)!));
    assert.equal(stats.oack?.get('tsize'), String(data.length));
  });
});
