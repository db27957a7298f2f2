import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { effectiveParameters } from '../../src/domain/polycom-xml.js';
import { curl } from '../support/curl.js';
import { userAgentOf, VVX_450, VVX_500 } from '../support/phone-boot.js';
import { cli, startServer, type CliResult, type ServerProcess } from '../support/server-process.js';

// The acceptance story, through the real command line against a running server: each layer beats
// the less specific ones, explain shows the provenance, and removing a value at one layer reveals
// the next less specific one. The server is never restarted: it must see every change at once.

const PASSWORD = 'acme-prov-pw-1';
const AUTH = ['-u', `acme:${PASSWORD}`];
const MAC = '0004f2000001';
const OTHER = '0004f2000002';
const PHONE_UA = userAgentOf({ ...VVX_450, mac: MAC });

// A real phone parameter that takes any text (the catalog refuses unknown names unless forced).
const PARAM = 'reg.1.displayName';
const PARAM_LINE = /^reg\.1\.displayName\s/;

let server: ServerProcess;

before(async () => {
  // The server starts on an empty data folder; everything after that is done with the CLI.
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

function run(...args: string[]): CliResult {
  const r = cli(server.dataDir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

/** What the phone gets for PARAM, fetched right after the CLI change: no waiting, no retry. */
function served(mac = MAC, ua = PHONE_UA): string | undefined {
  const r = curl(`${server.httpUrl}/${mac}-polyprov.cfg`, [...AUTH, '-A', ua]);
  assert.equal(r.status, 200, r.text);
  return effectiveParameters([r.text]).get(PARAM);
}

interface Explained {
  model: string | null;
  site: string | null;
  group: string | null;
  parameters: { name: string; value: string; layer: string; ref: string; shadows: { value: string; layer: string; ref: string }[] }[];
}

function explain(mac = MAC): Explained {
  return JSON.parse(run('explain', mac, '--json').stdout) as Explained;
}

function paramOf(e: Explained) {
  return e.parameters.find((p) => p.name === PARAM);
}

/** served value, explain's winner and explain's shadow list (most specific first), all at once. */
function assertResolved(expected: { layer: string; ref: string; value: string } | undefined, shadows: { layer: string; ref: string; value: string }[]) {
  const value = served();
  const e = explain();
  const x = paramOf(e);
  if (!expected) {
    assert.equal(value, undefined, `the phone gets no ${PARAM}`);
    assert.equal(x, undefined, `explain lists no ${PARAM}`);
    return;
  }
  assert.equal(value, expected.value, 'the phone gets the most specific value');
  assert.ok(x, `explain lists ${PARAM}`);
  assert.deepEqual({ value: x.value, layer: x.layer, ref: x.ref }, expected, 'explain names the winning layer');
  assert.deepEqual(
    x.shadows.map((s) => ({ layer: s.layer, ref: s.ref, value: s.value })),
    shadows,
    'explain lists the shadowed values, most specific first',
  );
}

const T = { layer: 'tenant', ref: 'acme', value: 'from-tenant' };
const M = { layer: 'model', ref: 'VVX_450', value: 'from-model' };
const S = { layer: 'site', ref: 'hq', value: 'from-site' };
const G = { layer: 'group', ref: 'sales', value: 'from-group' };
const D = { layer: 'device', ref: MAC, value: 'from-device' };

describe('layered policy through the CLI against a running server', () => {
  test('set up tenant, site, group and device with the CLI; the phone is served at once', async () => {
    run('tenant', 'add', 'acme', '--password', PASSWORD);
    run('site', 'add', 'hq');
    run('group', 'add', 'sales');
    run('device', 'add', MAC, '--site', 'hq', '--group', 'sales', '--label', 'reception');
    run('device', 'add', OTHER);
    assert.equal(served(), undefined);
    // The phone has now been seen with its User-Agent: explain learns its model from the inventory.
    const until = Date.now() + 10_000;
    let e = explain();
    while (e.model !== 'VVX_450' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      e = explain();
    }
    assert.equal(e.model, 'VVX_450', 'the inventory recorded the model from the User-Agent');
    assert.equal(e.site, 'hq');
    assert.equal(e.group, 'sales');
  });

  test('tenant layer', () => {
    const r = run('param', 'set', `${PARAM}=${T.value}`);
    assert.equal(r.stderr, '', 'a parameter of the templates is set without a warning');
    assertResolved(T, []);
  });

  test('model layer beats tenant', () => {
    run('param', 'set', `${PARAM}=${M.value}`, '--model', 'VVX_450');
    assertResolved(M, [T]);
    // Another model does not get the VVX_450 layer. (Asked for another device: a VVX_500 UA for MAC
    // would change the model the inventory records for it, and so what explain shows.)
    assert.equal(served(OTHER, userAgentOf({ ...VVX_500, mac: OTHER })), T.value);
    assert.equal(served(OTHER, userAgentOf({ ...VVX_450, mac: OTHER })), M.value);
  });

  test('site layer beats model', () => {
    run('param', 'set', `${PARAM}=${S.value}`, '--site', 'hq');
    assertResolved(S, [M, T]);
  });

  test('group layer beats site', () => {
    run('param', 'set', `${PARAM}=${G.value}`, '--group', 'sales');
    assertResolved(G, [S, M, T]);
  });

  test('device layer beats group', () => {
    run('param', 'set', `${PARAM}=${D.value}`, '--device', MAC);
    assertResolved(D, [G, S, M, T]);
  });

  test('a device outside the site and group gets only the tenant and model layers', () => {
    assert.equal(served(OTHER, userAgentOf({ ...VVX_450, mac: OTHER })), M.value);
    assert.equal(served(OTHER, userAgentOf({ ...VVX_500, mac: OTHER })), T.value);
  });

  test('explain without --json prints a readable line for the parameter with its layer and what it shadows', () => {
    const out = run('explain', MAC).stdout;
    assert.match(out, /^device 0004f2000001 in tenant "acme"/m);
    assert.match(out, /^model VVX_450, site hq, group sales$/m);
    const line = out.split('\n').find((l) => PARAM_LINE.test(l));
    assert.ok(line, `a line for ${PARAM} in:\n${out}`);
    assert.match(
      line,
      /^reg\.1\.displayName\s+from-device\s+device 0004f2000001\s+group sales="from-group"; site hq="from-site"; model VVX_450="from-model"; tenant acme="from-tenant"\s*$/,
    );
  });

  test('unset at the device reveals the group value', () => {
    run('param', 'unset', PARAM, '--device', MAC);
    assertResolved(G, [S, M, T]);
  });

  test('unset at the group reveals the site value', () => {
    run('param', 'unset', PARAM, '--group', 'sales');
    assertResolved(S, [M, T]);
  });

  test('unset at the site reveals the model value', () => {
    run('param', 'unset', PARAM, '--site', 'hq');
    assertResolved(M, [T]);
  });

  test('unset at the model reveals the tenant value', () => {
    run('param', 'unset', PARAM, '--model', 'VVX_450');
    assertResolved(T, []);
  });

  test('unset at the tenant leaves the parameter absent', () => {
    run('param', 'unset', PARAM);
    assertResolved(undefined, []);
    const out = run('explain', MAC).stdout;
    assert.doesNotMatch(out, new RegExp(PARAM_LINE.source, 'm'));
  });

  test('unsetting what is not set says so and changes nothing', () => {
    const r = run('param', 'unset', PARAM, '--device', MAC);
    assert.match(r.stdout, /removed 0 parameter/);
    assertResolved(undefined, []);
  });

  test('moving the device out of its group reveals the site value at once', () => {
    run('param', 'set', `${PARAM}=${S.value}`, '--site', 'hq');
    run('param', 'set', `${PARAM}=${G.value}`, '--group', 'sales');
    assertResolved(G, [S]);
    run('device', 'set', MAC, '--group', '');
    assertResolved(S, []);
    assert.equal(explain().group, null);
    run('device', 'set', MAC, '--group', 'sales');
    assertResolved(G, [S]);
  });
});
