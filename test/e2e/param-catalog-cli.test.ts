import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { cli, tempDir, type CliResult } from '../support/server-process.js';

// `param set` checks names against the catalog of Poly's template parameters: an unknown name is
// stored with a warning (newer firmware knows names the templates lack), or refused with --strict.

let dataDir: string;

function run(...args: string[]): CliResult {
  return cli(dataDir, args);
}

function stored(): { name: string; value: string }[] {
  const r = run('param', 'list', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { name: string; value: string }[];
}

before(() => {
  dataDir = tempDir();
  const r = run('tenant', 'add', 't1', '--password', 'password123');
  assert.equal(r.code, 0, r.stderr);
});

after(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

test('an unknown name is stored, with a warning that suggests the known one', () => {
  const r = run('param', 'set', 'reg.1.adress=1001');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /set 1 parameter/);
  assert.match(r.stderr, /^warning: reg\.1\.adress is not a parameter of Poly's UC Software templates \(phones ignore unknown names\); did you mean reg\.1\.address\?$/m);
  assert.deepEqual(
    stored().filter((p) => p.name === 'reg.1.adress').map((p) => p.value),
    ['1001'],
  );
});

test('--strict refuses an unknown name and stores nothing', () => {
  const r = run('param', 'set', '--strict', 'reg.2.address=2002', 'reg.1.adress=1');
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /reg\.1\.adress is not a parameter/);
  assert.match(r.stderr, /did you mean reg\.1\.address\?/);
  const params = stored();
  assert.deepEqual(params.filter((p) => p.name === 'reg.1.adress').map((p) => p.value), ['1001']);
  assert.equal(params.find((p) => p.name === 'reg.2.address'), undefined);
});

test('a known name, indexed or per model, gets no warning', () => {
  const r = run('param', 'set', 'reg.1.address=1001', 'call.callsPerLineKey.VVX101=4');
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning/);
  const strict = run('param', 'set', '--strict', 'reg.3.address=3003');
  assert.equal(strict.code, 0, strict.stderr);
  assert.equal(strict.stderr, '');
  assert.deepEqual(stored().filter((p) => p.name === 'reg.3.address').map((p) => p.value), ['3003']);
});

test('a name far from every known one is warned about without a suggestion', () => {
  const r = run('param', 'set', 'feature.tenantMark=x');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^warning: feature\.tenantMark is not a parameter of Poly's UC Software templates \(phones ignore unknown names\)$/m);
});
