import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContentRange, LogAppendInput } from '../../src/domain/log-append.js';
import { overlapMismatch, overlapOf, parseContentRange, planLogAppend } from '../../src/domain/log-append.js';

describe('parseContentRange', () => {
  it('reads START-END/TOTAL and START-END/*', () => {
    assert.deepEqual(parseContentRange('bytes 0-99/100'), { start: 0, end: 99, total: 100 });
    assert.deepEqual(parseContentRange('bytes 1024-2047/*'), { start: 1024, end: 2047, total: null });
    assert.deepEqual(parseContentRange('bytes 0-0/1'), { start: 0, end: 0, total: 1 });
    assert.deepEqual(parseContentRange('bytes 7-9/5000'), { start: 7, end: 9, total: 5000 });
  });

  it('accepts the unit in any case, surrounding whitespace and leading zeros', () => {
    assert.deepEqual(parseContentRange('  Bytes 010-019/*\t'), { start: 10, end: 19, total: null });
    assert.deepEqual(parseContentRange('BYTES\t0-1/2'), { start: 0, end: 1, total: 2 });
  });

  it('accepts the largest safe integer', () => {
    const max = Number.MAX_SAFE_INTEGER;
    assert.deepEqual(parseContentRange(`bytes ${max - 1}-${max - 1}/${max}`), { start: max - 1, end: max - 1, total: max });
  });

  it('returns null when there is no header', () => {
    assert.equal(parseContentRange(undefined), null);
  });

  for (const header of [
    '',
    '   ',
    'bytes',
    'bytes 0-9',
    'bytes 0-9/',
    'bytes */100',
    'bytes 5-4/*',
    'bytes 0-9/9',
    'bytes 0-9/0',
    'bytes -1-5/*',
    'bytes 1.5-3/*',
    'bytes 0x1-2/*',
    'bytes +1-2/*',
    'bytes 0 - 9/*',
    'bytes 0-9/*,10-19/*',
    'bytes=0-9/*',
    'items 0-9/*',
    '0-9/*',
    'bytes ０-９/*',
    `bytes 0-${2 ** 53}/*`,
    `bytes 0-1/${2 ** 53}`,
    'bytes 0-99999999999999999/*',
    `bytes 0-${'9'.repeat(5000)}/*`,
  ]) {
    it(`refuses ${JSON.stringify(header.length > 40 ? `${header.slice(0, 40)}…` : header)}`, () => {
      assert.equal(parseContentRange(header), 'invalid');
    });
  }
});

function plan(storedLength: number, range: ContentRange | null | 'invalid', bodyLength: number, appendMode = true) {
  return planLogAppend({ storedLength, range, bodyLength, appendMode });
}

const r = (start: number, end: number, total: number | null = null): ContentRange => ({ start, end, total });

describe('planLogAppend without a range', () => {
  it('appends the whole body in append mode', () => {
    assert.deepEqual(plan(500, null, 120, true), { action: 'append', skip: 0 });
    assert.deepEqual(plan(0, null, 120, true), { action: 'append', skip: 0 });
  });

  it('replaces the stored log otherwise', () => {
    assert.deepEqual(plan(500, null, 120, false), { action: 'replace' });
    assert.deepEqual(plan(0, null, 120, false), { action: 'replace' });
  });

  it('does nothing with an empty body, in either mode', () => {
    assert.deepEqual(plan(500, null, 0, true), { action: 'nothing' });
    assert.deepEqual(plan(500, null, 0, false), { action: 'nothing' });
  });
});

describe('planLogAppend with a range', () => {
  it('appends a chunk that starts at the stored length', () => {
    assert.deepEqual(plan(100, r(100, 149), 50), { action: 'append', skip: 0 });
    assert.deepEqual(plan(0, r(0, 9, 10), 10), { action: 'append', skip: 0 });
  });

  it('lets the range win over replace mode', () => {
    assert.deepEqual(plan(100, r(100, 149), 50, false), { action: 'append', skip: 0 });
    assert.deepEqual(plan(100, r(0, 49), 50, false), { action: 'nothing' });
  });

  it('skips the part of a retried chunk that is already stored', () => {
    assert.deepEqual(plan(100, r(80, 149), 70), { action: 'append', skip: 20 });
    assert.deepEqual(plan(100, r(0, 100), 101), { action: 'append', skip: 100 });
  });

  it('does nothing for a chunk that is stored entirely', () => {
    assert.deepEqual(plan(100, r(0, 99, 100), 100), { action: 'nothing' });
    assert.deepEqual(plan(100, r(40, 59), 20), { action: 'nothing' });
  });

  it('refuses a chunk that would leave a gap, naming the length to resend from', () => {
    const answer = plan(100, r(101, 150), 50);
    assert.equal(answer.action, 'refuse');
    assert.ok(answer.action === 'refuse' && answer.reason === 'gap');
    assert.match(answer.message, /100 bytes/);
    assert.match(answer.message, /resend from byte 100/);
    assert.equal(plan(0, r(1, 1), 1).action, 'refuse');
  });

  it('refuses a body whose length differs from the range', () => {
    for (const [range, body] of [[r(0, 9), 9], [r(0, 9), 11], [r(100, 100), 2]] as const) {
      const answer = plan(0, range, body);
      assert.ok(answer.action === 'refuse' && answer.reason === 'length-mismatch', JSON.stringify(answer));
      assert.match(answer.message, /announce \d+ bytes but the body has \d+/);
    }
  });

  it('checks the length before the gap', () => {
    const answer = plan(0, r(50, 59), 3);
    assert.ok(answer.action === 'refuse' && answer.reason === 'length-mismatch');
  });

  it('does nothing with an empty body', () => {
    assert.deepEqual(plan(100, r(100, 149), 0), { action: 'nothing' });
  });

  it('refuses an invalid range, from the parser or built by hand, even with an empty body', () => {
    for (const range of ['invalid', r(10, 5), r(-1, 5), r(0, 1.5), r(0, 9, 9), r(0, 2 ** 53)] as const) {
      const answer = plan(0, range, 0);
      assert.ok(answer.action === 'refuse' && answer.reason === 'invalid-range', JSON.stringify(range));
    }
  });

  it('throws for impossible lengths, which are caller bugs', () => {
    assert.throws(() => plan(-1, null, 1), RangeError);
    assert.throws(() => plan(0, null, Number.NaN), RangeError);
    assert.throws(() => plan(0.5, null, 1), RangeError);
  });
});

describe('overlapOf', () => {
  const input = (storedLength: number, range: ContentRange | null | 'invalid', bodyLength: number): LogAppendInput => ({
    storedLength,
    range,
    bodyLength,
    appendMode: true,
  });

  it('names the stored bytes a partly retried chunk repeats', () => {
    assert.deepEqual(overlapOf(input(100, r(80, 149), 70)), { storedFrom: 80, length: 20 });
  });

  it('covers the whole body of a chunk that is stored entirely', () => {
    assert.deepEqual(overlapOf(input(100, r(40, 59), 20)), { storedFrom: 40, length: 20 });
  });

  it('is null when nothing is repeated or the upload is refused', () => {
    assert.equal(overlapOf(input(100, r(100, 149), 50)), null);
    assert.equal(overlapOf(input(100, null, 50)), null);
    assert.equal(overlapOf(input(100, 'invalid', 50)), null);
    assert.equal(overlapOf(input(100, r(120, 149), 30)), null);
    assert.equal(overlapOf(input(100, r(80, 149), 3)), null);
    assert.equal(overlapOf(input(100, r(40, 59), 0)), null);
  });

  it('has a refusal for repeated bytes that differ from the stored ones', () => {
    const refusal = overlapMismatch({ storedFrom: 80, length: 20 });
    assert.equal(refusal.action, 'refuse');
    assert.equal(refusal.reason, 'overlap-mismatch');
    assert.match(refusal.message, /bytes 80-99/);
  });
});

// A small seeded generator, so a failure can be replayed from the seed in the message.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Applies an upload to `stored` the way the upload sink will; returns the new bytes or the refusal. */
function apply(stored: Buffer, range: ContentRange | null, body: Buffer): Buffer | { refused: string } {
  const input: LogAppendInput = { storedLength: stored.length, range, bodyLength: body.length, appendMode: true };
  const decision = planLogAppend(input);
  const overlap = overlapOf(input);
  if (overlap) {
    const repeated = body.subarray(0, overlap.length);
    const storedPart = stored.subarray(overlap.storedFrom, overlap.storedFrom + overlap.length);
    if (!repeated.equals(storedPart)) return { refused: overlapMismatch(overlap).reason };
  }
  switch (decision.action) {
    case 'append':
      return Buffer.concat([stored, body.subarray(decision.skip)]);
    case 'replace':
      return Buffer.from(body);
    case 'nothing':
      return stored;
    case 'refuse':
      return { refused: decision.reason };
  }
}

describe('planLogAppend with retried, lost and out-of-order chunks', () => {
  it('rebuilds the original log exactly (200 seeded runs)', () => {
    const seen = { partial: 0, repeated: 0, gaps: 0 };
    for (let seed = 1; seed <= 200; seed++) {
      const random = mulberry32(seed);
      const int = (below: number): number => Math.floor(random() * below);
      const original = Buffer.from(Array.from({ length: int(3000) }, () => int(256)));
      const total = original.length;
      let stored: Buffer = Buffer.alloc(0);
      let phoneOffset = 0; // what the phone believes the server holds (its app.log.pos)
      let steps = 0;
      let refusals = 0;

      while ((stored.length < total || phoneOffset < total || steps < 20) && steps < 5000) {
        steps++;
        const roll = random();
        let start: number;
        if (total === 0) break;
        if (roll < 0.15) start = int(Math.min(phoneOffset, total - 1) + 1); // re-send from an earlier offset
        else if (roll < 0.2 && stored.length < total - 1) start = stored.length + 1 + int(total - stored.length - 1); // too far
        else if (phoneOffset < total) start = phoneOffset;
        else start = int(total); // all sent: a stray retry of something old
        const end = Math.min(total - 1, start + int(400));
        const body = original.subarray(start, end + 1);
        const range: ContentRange = { start, end, total: random() < 0.5 ? null : total };
        const decision = planLogAppend({ storedLength: stored.length, range, bodyLength: body.length, appendMode: true });
        if (decision.action === 'append' && decision.skip > 0) seen.partial++;
        if (decision.action === 'nothing') seen.repeated++;
        const result = apply(stored, range, body);
        if (!Buffer.isBuffer(result)) {
          assert.equal(result.refused, 'gap', `seed ${seed}: unexpected refusal ${result.refused}`);
          refusals++;
          seen.gaps++;
          phoneOffset = stored.length; // the phone HEADs and learns the stored length
          continue;
        }
        assert.ok(result.length >= stored.length, `seed ${seed}: the log shrank`);
        assert.ok(original.subarray(0, result.length).equals(result), `seed ${seed}: stored bytes are not a prefix`);
        stored = result;
        // One response in five is lost: the phone does not advance and sends the chunk again.
        if (random() >= 0.2) phoneOffset = Math.max(phoneOffset, end + 1);
      }
      assert.ok(stored.equals(original), `seed ${seed}: stored ${stored.length} of ${total} bytes after ${steps} steps (${refusals} gaps)`);
    }
    // The runs must have gone through every interesting branch, or they prove little.
    assert.ok(seen.partial > 50 && seen.repeated > 50 && seen.gaps > 50, JSON.stringify(seen));
  });

  it('detects a retried chunk whose bytes differ from the stored ones', () => {
    const stored = Buffer.from('0101000002|so   |*|00|Initial log entry\n');
    const changed = Buffer.from(stored);
    changed[3] = 0x39;
    const result = apply(stored, { start: 0, end: changed.length - 1, total: null }, changed);
    assert.deepEqual(result, { refused: 'overlap-mismatch' });
    const tail = Buffer.concat([changed.subarray(10), Buffer.from('more\n')]);
    // Only the repeated bytes are compared: byte 3 lies before this chunk.
    const partly = apply(stored, { start: 10, end: 10 + tail.length - 1, total: null }, tail);
    assert.deepEqual(partly, Buffer.concat([stored, Buffer.from('more\n')]));
  });
});
