import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { negotiate, type NegotiationContext } from '../../../src/servers/tftp/options.js';

const opts = (...pairs: [string, string][]) => new Map(pairs);
const read: NegotiationContext = { operation: 'read', size: 123_456 };
const write: NegotiationContext = { operation: 'write' };

describe('TFTP option negotiation', () => {
  it('an RFC 1350 client (no options) gets no OACK and the defaults', () => {
    assert.deepEqual(negotiate(opts(), read), { ok: true, settings: { blksize: 512, windowsize: 1 }, oack: null });
  });

  it('only unknown options: no OACK either', () => {
    assert.deepEqual(negotiate(opts(['multicast', ''], ['rollover', '0']), read), { ok: true, settings: { blksize: 512, windowsize: 1 }, oack: null });
  });

  const table: [string, Map<string, string>, NegotiationContext, { blksize: number; windowsize: number; timeoutMs?: number; tsize?: number }, [string, string][]][] = [
    ['blksize 1468', opts(['blksize', '1468']), read, { blksize: 1468, windowsize: 1 }, [['blksize', '1468']]],
    ['blksize 8 (the minimum)', opts(['blksize', '8']), read, { blksize: 8, windowsize: 1 }, [['blksize', '8']]],
    ['blksize 65464 (the maximum)', opts(['blksize', '65464']), read, { blksize: 65464, windowsize: 1 }, [['blksize', '65464']]],
    ['blksize above the maximum is lowered', opts(['blksize', '100000']), read, { blksize: 65464, windowsize: 1 }, [['blksize', '65464']]],
    ['blksize lowered to the path limit', opts(['blksize', '9000']), { ...read, maxBlksize: 1468 }, { blksize: 1468, windowsize: 1 }, [['blksize', '1468']]],
    ['timeout 1', opts(['timeout', '1']), read, { blksize: 512, windowsize: 1, timeoutMs: 1000 }, [['timeout', '1']]],
    ['timeout 255', opts(['timeout', '255']), read, { blksize: 512, windowsize: 1, timeoutMs: 255_000 }, [['timeout', '255']]],
    ['timeout 0 is not acknowledged', opts(['timeout', '0']), read, { blksize: 512, windowsize: 1 }, []],
    ['timeout 256 is not acknowledged', opts(['timeout', '256']), read, { blksize: 512, windowsize: 1 }, []],
    ['tsize on RRQ answers the real size', opts(['tsize', '0']), read, { blksize: 512, windowsize: 1 }, [['tsize', '123456']]],
    ['tsize on RRQ without a known size is not acknowledged', opts(['tsize', '0']), { operation: 'read' }, { blksize: 512, windowsize: 1 }, []],
    ['tsize on WRQ is the announced size', opts(['tsize', '4096']), write, { blksize: 512, windowsize: 1, tsize: 4096 }, [['tsize', '4096']]],
    ['windowsize 16', opts(['windowsize', '16']), read, { blksize: 512, windowsize: 16 }, [['windowsize', '16']]],
    ['windowsize above 64 is lowered', opts(['windowsize', '1000']), read, { blksize: 512, windowsize: 64 }, [['windowsize', '64']]],
    ['windowsize 64 at blksize 1468 fits a receiver', opts(['blksize', '1468'], ['windowsize', '64']), read, { blksize: 1468, windowsize: 64 }, [['blksize', '1468'], ['windowsize', '64']]],
    [
      'windowsize lowered to what a receiver holds of 8192-byte blocks, whatever the option order',
      opts(['windowsize', '16'], ['blksize', '8192']),
      read,
      { blksize: 8192, windowsize: 9 },
      [['windowsize', '9'], ['blksize', '8192']],
    ],
    ['blksize 65464 sends one block at a time', opts(['blksize', '65464'], ['windowsize', '8']), read, { blksize: 65464, windowsize: 1 }, [['blksize', '65464'], ['windowsize', '1']]],
    [
      'all four, in the client order, unknown ones skipped',
      opts(['windowsize', '8'], ['foo', 'bar'], ['tsize', '0'], ['blksize', '1024'], ['timeout', '3']),
      read,
      { blksize: 1024, windowsize: 8, timeoutMs: 3000 },
      [['windowsize', '8'], ['tsize', '123456'], ['blksize', '1024'], ['timeout', '3']],
    ],
  ];
  for (const [name, requested, ctx, settings, oack] of table) {
    it(name, () => {
      const n = negotiate(requested, ctx);
      assert.ok(n.ok);
      assert.deepEqual(n.settings, settings);
      assert.deepEqual(n.oack ?? [], oack);
    });
  }

  const refused: [string, Map<string, string>][] = [
    ['blksize 7', opts(['blksize', '7'])],
    ['blksize 0', opts(['blksize', '0'])],
    ['blksize not a number', opts(['blksize', 'abc'])],
    ['blksize negative', opts(['blksize', '-512'])],
    ['blksize with a sign', opts(['blksize', '+512'])],
    ['blksize with spaces', opts(['blksize', ' 512'])],
    ['blksize as a float', opts(['blksize', '512.5'])],
    ['blksize empty', opts(['blksize', ''])],
    ['blksize in hex', opts(['blksize', '0x200'])],
    ['blksize absurdly long', opts(['blksize', '9'.repeat(40)])],
    ['windowsize 0', opts(['windowsize', '0'])],
    ['timeout not a number', opts(['timeout', 'soon'])],
    ['tsize not a number', opts(['tsize', 'big'])],
  ];
  for (const [name, requested] of refused) {
    it(`refuses ${name}`, () => {
      const n = negotiate(requested, read);
      assert.equal(n.ok, false);
      assert.ok(!n.ok && n.message.length > 0);
    });
  }
});
