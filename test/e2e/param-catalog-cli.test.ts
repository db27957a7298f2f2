import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { cli, tempDir, type CliResult } from '../support/server-process.js';

// `param set` checks names against the catalog of Poly's template parameters and values against
// their types: an unknown name or an invalid value refuses the whole command, with what it may
// have meant; --force stores them anyway with a warning (newer firmware knows names the templates
// lack).

let dataDir: string;

function run(...args: string[]): CliResult {
  return cli(dataDir, args);
}

function stored(name: string): string[] {
  const r = run('param', 'list', '--json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { name: string; value: string }[]).filter((p) => p.name === name).map((p) => p.value);
}

before(() => {
  dataDir = tempDir();
  const r = run('tenant', 'add', 't1', '--password', 'password123');
  assert.equal(r.code, 0, r.stderr);
});

after(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

test('an unknown name is refused with the known one it may mean, and nothing of the command is set', () => {
  const r = run('param', 'set', 'reg.2.address=2002', 'reg.1.adress=x');
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^ {2}reg\.1\.adress is not a parameter of Poly's UC Software templates \(phones ignore unknown names\); did you mean reg\.1\.address\?$/m);
  assert.match(r.stderr, /^add --force to set it anyway$/m);
  assert.deepEqual(stored('reg.1.adress'), []);
  assert.deepEqual(stored('reg.2.address'), []);
});

test('--force sets an unknown name, with the same words as a warning', () => {
  const r = run('param', 'set', '--force', 'reg.1.adress=x');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /set 1 parameter/);
  assert.match(r.stderr, /^warning: reg\.1\.adress is not a parameter of Poly's UC Software templates \(phones ignore unknown names\); did you mean reg\.1\.address\?$/m);
  assert.deepEqual(stored('reg.1.adress'), ['x']);
});

test('a bad boolean is refused, and every problem of the command is listed', () => {
  const r = run('param', 'set', 'feature.callPark.enabled=yes', 'prov.polling.mode=weekly', 'reg.1.address=1001');
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /^ {2}"yes" is not a valid value for feature\.callPark\.enabled: expected 0 or 1 \(off or on\)$/m);
  assert.match(r.stderr, /^ {2}"weekly" is not a valid value for prov\.polling\.mode: expected one of abs, rel or random$/m);
  assert.match(r.stderr, /^add --force to set them anyway$/m);
  assert.deepEqual(stored('feature.callPark.enabled'), []);
  assert.deepEqual(stored('reg.1.address'), []);
});

test('--force sets an invalid value with a warning; valid and empty values need no force', () => {
  const forced = run('param', 'set', '--force', 'feature.callPark.enabled=yes');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /^warning: "yes" is not a valid value for feature\.callPark\.enabled/m);
  assert.deepEqual(stored('feature.callPark.enabled'), ['yes']);
  const r = run('param', 'set', 'feature.callPark.enabled=1', 'prov.polling.mode=', 'httpd.cfg.port=8080');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(stored('feature.callPark.enabled'), ['1']);
  assert.deepEqual(stored('prov.polling.mode'), ['']);
});

test('a known name, indexed or per model, is set without a word', () => {
  const r = run('param', 'set', 'reg.1.address=1001', 'call.callsPerLineKey.VVX101=4', 'reg.12.address=1012');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(stored('reg.12.address'), ['1012']);
  assert.deepEqual(stored('call.callsPerLineKey.VVX101'), ['4']);
});

test('a name far from every known one is refused without a suggestion', () => {
  const r = run('param', 'set', 'feature.tenantMark=x');
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /^ {2}feature\.tenantMark is not a parameter of Poly's UC Software templates \(phones ignore unknown names\)$/m);
  assert.deepEqual(stored('feature.tenantMark'), []);
});

test('--strict is still accepted (it is the default now), but not together with --force', () => {
  const strict = run('param', 'set', '--strict', 'reg.3.address=3003');
  assert.equal(strict.code, 0, strict.stderr);
  assert.deepEqual(stored('reg.3.address'), ['3003']);
  const refused = run('param', 'set', '--strict', 'reg.1.adress=1');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /did you mean reg\.1\.address\?/);
  const both = run('param', 'set', '--strict', '--force', 'reg.4.address=4004');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /give either --strict or --force/);
  assert.deepEqual(stored('reg.4.address'), []);
});
