import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequestPath } from '../../../src/domain/request-path.js';
import { coreTarget, displayPath, resolveFtpPath, ROOT, splitParent } from '../../../src/servers/ftp/ftp-path.js';

/** What the core will make of a path the session resolved: the one traversal check there is. */
function coreSees(cwd: readonly string[], arg: string) {
  return parseRequestPath(coreTarget(resolveFtpPath(cwd, arg)));
}

describe('FTP paths', () => {
  test('relative names resolve against the working directory, absolute ones do not', () => {
    assert.deepEqual(resolveFtpPath(['logs'], 'x-app.log'), ['logs', 'x-app.log']);
    assert.deepEqual(resolveFtpPath(['logs'], '/fw/sip.ld'), ['fw', 'sip.ld']);
    assert.deepEqual(resolveFtpPath(['logs'], ''), ['logs']);
    assert.deepEqual(resolveFtpPath(['a', 'b'], './../c//d/'), ['a', 'c', 'd']);
    assert.deepEqual(resolveFtpPath(['logs'], '..'), []);
    assert.equal(displayPath(ROOT), '/');
    assert.equal(displayPath(['a', 'b']), '/a/b');
    assert.deepEqual(splitParent(['a', 'b']), { parent: ['a'], name: 'b' });
    assert.equal(splitParent(ROOT), null);
  });

  test('climbing above the root is kept, not clamped, and the core refuses it', () => {
    assert.deepEqual(resolveFtpPath(ROOT, '../../etc/passwd'), ['..', '..', 'etc', 'passwd']);
    assert.deepEqual(resolveFtpPath(['logs'], '../../../etc/passwd'), ['..', '..', 'etc', 'passwd']);
    assert.deepEqual(resolveFtpPath(ROOT, '/..'), ['..']);
    for (const arg of ['../../etc/passwd', '/../x', '..', 'a/../../b']) {
      const r = coreSees(ROOT, arg);
      assert.equal(r.ok, false, arg);
      assert.equal(!r.ok && r.problem, 'bad-path', arg);
    }
  });

  test('percent signs are characters of a name, never an encoding', () => {
    assert.equal(coreTarget(resolveFtpPath(ROOT, '/%2e%2e/x')), '/%252e%252e/x');
    assert.deepEqual(coreSees(ROOT, '/%2e%2e/x'), { ok: true, segments: ['%2e%2e', 'x'] });
    assert.deepEqual(coreSees(ROOT, 'a%2fb'), { ok: true, segments: ['a%2fb'] });
    assert.deepEqual(coreSees(ROOT, 'caf\u00e9 1.cfg'), { ok: true, segments: ['caf\u00e9 1.cfg'] });
  });

  test('backslashes, NUL and control characters reach the core encoded, which refuses them', () => {
    for (const arg of ['..\\..\\etc\\passwd', 'a\\b', 'x\u0000.cfg', 'x\r\n.cfg']) {
      const r = coreSees(ROOT, arg);
      assert.equal(r.ok, false, JSON.stringify(arg));
      assert.equal(!r.ok && r.problem, 'bad-path', JSON.stringify(arg));
    }
  });

  test('a very long path resolves, and the core refuses it as too long', () => {
    const long = Array.from({ length: 200 }, (_, i) => `dir${i}`).join('/');
    assert.equal(resolveFtpPath(ROOT, long).length, 200);
    const r = coreSees(ROOT, long);
    assert.equal(!r.ok && r.problem, 'too-long');
    const oneSegment = coreSees(ROOT, 'x'.repeat(4000));
    assert.equal(!oneSegment.ok && oneSegment.problem, 'too-long');
  });
});
