// The native pump at its boundary: it is built (CI installs a compiler, so a missing build fails
// here, not silently in TypeScript), it refuses bad options with a clear error, and a running
// transfer stops on abort. The protocol itself is tested on both engines in tftp-edge.test.ts.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePacket, encodeAck, OP_DATA } from '../../../src/servers/tftp/packet.js';
import { loadTftpPump, type PumpOptions, type PumpResult } from '../../../src/servers/tftp/native-pump.js';
import { RawUdp } from '../../support/tftp-raw.js';
import { tempDir } from '../../support/server-process.js';

const pump = loadTftpPump();

function options(peerPort: number, over: Partial<PumpOptions> = {}): PumpOptions {
  return { family: 4, localAddress: '127.0.0.1', peerAddress: '127.0.0.1', peerPort, data: Buffer.alloc(2000, 7), start: 0, size: 2000, blksize: 512, windowsize: 1, retransmitMs: 1000, retries: 2, ...over };
}

function run(o: PumpOptions): { result: Promise<PumpResult>; abort(): void } {
  let settle: (r: PumpResult) => void = () => {};
  const result = new Promise<PumpResult>((resolve) => (settle = resolve));
  const handle = pump!.start(o, settle);
  return { result, abort: () => pump!.abort(handle) };
}

test('the native pump is built (npm ci builds it with node-gyp)', () => {
  assert.ok(pump, 'build/Release/tftp_pump.node is missing: run `npm rebuild polyprov` with g++ and make installed');
});

test('bad options are refused with a message, before any socket is opened', () => {
  assert.throws(() => pump!.start(options(9, { peerAddress: 'not-an-ip' }), () => {}), /numeric address/);
  assert.throws(() => pump!.start(options(9, { data: Buffer.alloc(10) }), () => {}), /at least size bytes/);
  assert.throws(() => pump!.start(options(9, { blksize: 4 }), () => {}), /blksize/);
  assert.throws(() => pump!.start(options(9, { windowsize: 65 }), () => {}), /windowsize/);
  assert.throws(() => pump!.start(options(9, { data: undefined, path: '/nonexistent/file' }), () => {}), /cannot open the file/);
});

test('a file is read from its offset and sent block by block to the end', async () => {
  const file = join(tempDir(), 'f.bin');
  const bytes = Buffer.from(Array.from({ length: 1600 }, (_, i) => i & 0xff));
  writeFileSync(file, bytes);
  const raw = await RawUdp.open();
  const { result } = run(options(raw.port, { data: undefined, path: file, start: 100, size: 1500 }));
  const got: Buffer[] = [];
  for (let block = 1; block <= 3; block++) {
    const p = await raw.next(2000);
    assert.ok(p, `block ${block}`);
    const d = decodePacket(p.msg);
    assert.ok(d.opcode === OP_DATA && d.block === block);
    got.push(d.data);
    raw.send(encodeAck(block), p.from.port);
  }
  assert.deepEqual(Buffer.concat(got), bytes.subarray(100));
  assert.equal((await result).outcome, 'complete');
  raw.close();
});

test('abort ends a transfer that waits for an ACK within a fraction of a second', async () => {
  const raw = await RawUdp.open();
  const { result, abort } = run(options(raw.port, { retransmitMs: 60_000 }));
  assert.ok(await raw.next(2000), 'block 1 is sent');
  const t0 = Date.now();
  abort();
  const r = await result;
  assert.equal(r.outcome, 'aborted');
  assert.ok(Date.now() - t0 < 1000, `ended ${Date.now() - t0} ms after abort`);
  raw.close();
});
