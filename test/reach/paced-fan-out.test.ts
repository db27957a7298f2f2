import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { runPaced } from '../../src/reach/paced-fan-out.js';
import { type NotifyOutcome, SipNotifier } from '../../src/reach/sip/notify-sender.js';
import { phoneResponse, readRequest } from '../support/sipp.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('fan-out: 2,000 check-sync NOTIFYs, paced', () => {
  it('arrive at the set rate (±10%), every one answered ok', async () => {
    const rate = 400;
    const count = 2000;
    // The phones: one loopback socket answering 200 to everything, noting when each Call-ID first arrived.
    const firstArrival = new Map<string, number>();
    const sink = createSocket('udp4');
    sink.on('message', (msg, from) => {
      const text = msg.toString('utf8');
      const callId = readRequest(text).headers.get('call-id') ?? '';
      if (!firstArrival.has(callId)) firstArrival.set(callId, performance.now());
      sink.send(phoneResponse(text, 200, 'OK'), from.port, from.address);
    });
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    const port = sink.address().port;
    const notifier = new SipNotifier({ bindHost: '127.0.0.1' });
    try {
      await notifier.start();
      const outcomes: NotifyOutcome[] = [];
      const summary = await runPaced(
        range(count),
        { ratePerSecond: rate, jitter: 0.5 },
        (i) => notifier.notify({ host: '127.0.0.1', port, transport: 'udp', requestUri: `sip:${1000 + i}@127.0.0.1:${port}` }),
        (i, outcome) => {
          outcomes[i] = outcome;
        },
      );
      assert.deepEqual({ ...summary, elapsedMs: 0 }, { started: count, completed: count, aborted: false, elapsedMs: 0 });
      const notOk = outcomes.filter((o) => o?.kind !== 'ok');
      assert.equal(notOk.length, 0, JSON.stringify(notOk.slice(0, 3)));
      assert.equal(outcomes.length, count);
      assert.equal(firstArrival.size, count);
      const times = [...firstArrival.values()];
      const spanSeconds = (Math.max(...times) - Math.min(...times)) / 1000;
      const measured = (count - 1) / spanSeconds;
      assert.ok(Math.abs(measured - rate) <= rate * 0.1, `measured ${measured.toFixed(1)}/s, expected ${rate}/s ±10%`);
    } finally {
      await notifier.close();
      await new Promise<void>((resolve) => sink.close(() => resolve()));
    }
  });
});

describe('runPaced', () => {
  it('keeps the rate at 1000 sends per second by starting several per timer tick', async () => {
    const starts: number[] = [];
    await runPaced(range(1000), { ratePerSecond: 1000, jitter: 0.5 }, async () => {
      starts.push(performance.now());
    });
    const measured = 999 / ((starts[999]! - starts[0]!) / 1000);
    assert.ok(Math.abs(measured - 1000) <= 100, `measured ${measured.toFixed(1)}/s`);
  });

  it('with jitter 0 starts the items in order, none before t0 + i/rate', async () => {
    const starts: { index: number; at: number }[] = [];
    const before = performance.now();
    const summary = await runPaced(range(20), { ratePerSecond: 200, jitter: 0 }, async (_item, index) => {
      starts.push({ index, at: performance.now() });
    });
    assert.equal(summary.started, 20);
    assert.deepEqual(starts.map((s) => s.index), range(20));
    for (const { index, at } of starts) assert.ok(at >= before + index * 5, `item ${index} started ${(before + index * 5 - at).toFixed(3)} ms early`);
  });

  it('moves each start later by the jitter drawn, up to half the interval', async () => {
    const starts: number[] = [];
    const before = performance.now();
    await runPaced(range(10), { ratePerSecond: 100, jitter: 1, random: () => 0.99 }, async () => {
      starts.push(performance.now() - before);
    });
    // random() = 0.99 puts every start 0.49 of the 10 ms interval late: never before i*10 + 4.9 ms.
    starts.forEach((at, i) => assert.ok(at >= i * 10 + 4.9, `item ${i} at ${at.toFixed(2)} ms`));
  });

  it('after waiting for maxInFlight, carries on at the set spacing instead of bursting to catch up', async () => {
    const starts: number[] = [];
    await runPaced(range(8), { ratePerSecond: 100, jitter: 0, maxInFlight: 5 }, async (_item, index) => {
      starts[index] = performance.now();
      if (index < 5) await delay(200);
    });
    // Item 5 waited ~150 ms for a free slot; item 6 must still come one 10 ms interval after it.
    assert.ok(starts[6]! - starts[5]! >= 5, `items 5 and 6 started ${(starts[6]! - starts[5]!).toFixed(2)} ms apart`);
    assert.ok(starts[7]! - starts[6]! >= 5, `items 6 and 7 started ${(starts[7]! - starts[6]!).toFixed(2)} ms apart`);
  });

  it('stops starting new sends when the signal aborts, lets in-flight ones finish and says so', async () => {
    const controller = new AbortController();
    const called: number[] = [];
    const finished: number[] = [];
    const summary = await runPaced(range(50), { ratePerSecond: 200, jitter: 0, signal: controller.signal }, async (_item, index) => {
      called.push(index);
      if (index === 4) controller.abort();
      await delay(30);
      finished.push(index);
      return index;
    });
    assert.deepEqual(called, [0, 1, 2, 3, 4]);
    assert.equal(summary.started, 5);
    assert.equal(summary.completed, 5);
    assert.equal(summary.aborted, true);
    assert.equal(finished.length, 5, 'in-flight sends finish before runPaced resolves');

    const already = new AbortController();
    already.abort();
    const none = await runPaced(range(3), { ratePerSecond: 10, jitter: 0, signal: already.signal }, async () => assert.fail('must not start'));
    assert.deepEqual({ ...none, elapsedMs: 0 }, { started: 0, completed: 0, aborted: true, elapsedMs: 0 });
  });

  it('never has more than maxInFlight sends awaiting their result', async () => {
    let now = 0;
    let most = 0;
    const summary = await runPaced(range(40), { ratePerSecond: 5000, jitter: 0.3, maxInFlight: 3 }, async () => {
      now++;
      most = Math.max(most, now);
      await delay(5);
      now--;
    });
    assert.equal(most, 3);
    assert.equal(summary.completed, 40);
  });

  it('awaits onResult for every completed item before resolving', async () => {
    const persisted: number[] = [];
    const summary = await runPaced(
      range(25),
      { ratePerSecond: 1000, jitter: 0.5 },
      async (item) => item * 2,
      async (item, result, index) => {
        await delay(10);
        assert.equal(result, item * 2);
        persisted.push(index);
      },
    );
    assert.equal(summary.completed, 25);
    assert.deepEqual([...persisted].sort((a, b) => a - b), range(25));
  });

  it('stops at the first failing send, waits for in-flight ones, then rejects with its error', async () => {
    const finished: number[] = [];
    const called: number[] = [];
    await assert.rejects(
      runPaced(range(100), { ratePerSecond: 1000, jitter: 0 }, async (_item, index) => {
        called.push(index);
        if (index === 3) throw new Error('store is down');
        await delay(40);
        finished.push(index);
      }),
      /store is down/,
    );
    assert.ok(called.length < 100, `started ${called.length}`);
    assert.deepEqual(finished.sort((a, b) => a - b), called.filter((i) => i !== 3));

    const sync = runPaced([1], { ratePerSecond: 10, jitter: 0 }, () => {
      throw new Error('thrown synchronously');
    });
    await assert.rejects(sync, /thrown synchronously/);
  });

  it('refuses a bad rate, jitter or maxInFlight with a clear message, and does nothing for no items', async () => {
    const send = async () => undefined;
    await assert.rejects(runPaced([1], { ratePerSecond: 0, jitter: 0 }, send), /rate must be a positive number of sends per second, got 0/);
    await assert.rejects(runPaced([1], { ratePerSecond: Number.NaN, jitter: 0 }, send), RangeError);
    await assert.rejects(runPaced([1], { ratePerSecond: 10, jitter: 1.5 }, send), /jitter must be between 0 and 1/);
    await assert.rejects(runPaced([1], { ratePerSecond: 10, jitter: 0, maxInFlight: 0 }, send), /maxInFlight must be a whole number of at least 1/);
    const empty = await runPaced([], { ratePerSecond: 10, jitter: 0 }, send);
    assert.deepEqual({ ...empty, elapsedMs: 0 }, { started: 0, completed: 0, aborted: false, elapsedMs: 0 });
  });
});
