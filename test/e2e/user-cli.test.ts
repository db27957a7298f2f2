import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { AuthenticationFailed, login, principalForToken } from '../../src/admin/admin-auth.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { openAdminContext } from '../../src/app.js';
import type { AuditEntry } from '../../src/store/store.js';
import { cli, tempDir, type CliResult } from '../support/server-process.js';

// `polyprov user`, `token` and `audit` through the real command line on a data folder; what they
// print is then used as a console or a script would: passwords to log in, tokens as bearers.

const ROOT_PASSWORD = 'correct horse battery';

let dataDir: string;
let ctx: AdminContext;

before(async () => {
  dataDir = tempDir('polyprov-user-cli-');
  ok('tenant', 'add', 'acme', '--password', 'acme-prov-pw-1');
  ok('tenant', 'add', 'beta', '--password', 'beta-prov-pw-1');
  ctx = await openAdminContext({ dataDir });
});

after(async () => {
  await ctx?.store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function ok(...args: string[]): CliResult {
  const r = cli(dataDir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

/** Runs a command that must be refused, with this message. */
function refused(message: RegExp, ...args: string[]): void {
  const r = cli(dataDir, args);
  assert.equal(r.code, 1, `polyprov ${args.join(' ')} should have been refused:\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, message);
}

const canLogIn = (user: string, password: string) =>
  login(ctx, user, password, '127.0.0.1').then(
    () => true,
    (err: unknown) => {
      if (err instanceof AuthenticationFailed) return false;
      throw err;
    },
  );

/** The password a command printed once. */
function printedPassword(r: CliResult): string {
  const m = /password ([A-Za-z0-9_-]{16}) \(shown once: note it now\)/.exec(r.stdout);
  assert.ok(m, `no password in: ${r.stdout}`);
  return m[1]!;
}

describe('polyprov user', () => {
  test('add with a given or a generated password; both log in; refusals say what to fix', async () => {
    const root = ok('user', 'add', 'root', '--role', 'super-admin', '--password', ROOT_PASSWORD);
    assert.equal(root.stdout, 'created user "root": super-admin of every tenant\n');
    assert.equal(await canLogIn('root', ROOT_PASSWORD), true);

    const bob = ok('user', 'add', 'bob', '--role', 'tenant-admin', '-t', 'acme');
    assert.match(bob.stdout, /^created user "bob": tenant-admin of tenant "acme", password /);
    assert.equal(await canLogIn('bob', printedPassword(bob)), true);

    refused(/^polyprov: user "carol": a tenant-admin works in one tenant: name it\n$/, 'user', 'add', 'carol', '--role', 'tenant-admin');
    refused(/^polyprov: the password is too short: use at least 12 characters/, 'user', 'add', 'carol', '--role', 'read-only', '--password', 'short');
    refused(/^polyprov: unknown role "admin": expected super-admin, tenant-admin, read-only\n$/, 'user', 'add', 'carol', '--role', 'admin');
    refused(/^polyprov: no tenant "nope"/, 'user', 'add', 'carol', '--role', 'read-only', '-t', 'nope');
    refused(/^polyprov: user "bob" already exists\n$/, 'user', 'add', 'BOB', '--role', 'read-only');
    refused(/required option '--role <role>' not specified/, 'user', 'add', 'carol');

    const list = JSON.parse(ok('user', 'list', '--json').stdout) as { username: string; role: string; tenant: string | null; disabled: boolean }[];
    assert.deepEqual(
      list.map((u) => [u.username, u.role, u.tenant, u.disabled]),
      [
        ['bob', 'tenant-admin', 'acme', false],
        ['root', 'super-admin', null, false],
      ],
    );
    assert.ok(list.every((u) => !('passwordHash' in u)));
    const table = ok('user', 'list').stdout.split('\n');
    assert.match(table[0]!, /^user\s+role\s+tenant\s+status\s+created$/);
    assert.match(table[1]!, /^bob\s+tenant-admin\s+acme\s+enabled\s+\d{4}-/);
  });

  test('set changes role and tenant, generates a password, disables and enables; the last super-admin stays', async () => {
    assert.equal(ok('user', 'set', 'bob', '--role', 'read-only', '-t', '').stdout, 'user "bob": read-only of every tenant (read only)\n');
    const reset = ok('user', 'set', 'bob', '--password');
    const password = printedPassword(reset);
    assert.equal(await canLogIn('bob', password), true);

    assert.equal(ok('user', 'set', 'bob', '--disable').stdout, 'user "bob": read-only of every tenant (read only), disabled\n');
    assert.equal(await canLogIn('bob', password), false);
    ok('user', 'set', 'bob', '--enable', '--role', 'tenant-admin', '-t', 'beta');
    assert.equal(await canLogIn('bob', password), true);
    assert.equal(ok('user', 'set', 'bob', '--password', 'a long phrase he chose').stdout, 'user "bob": tenant-admin of tenant "beta"\n', 'a given password is not printed');
    assert.equal(await canLogIn('bob', 'a long phrase he chose'), true);

    refused(/^polyprov: give --disable or --enable, not both\n$/, 'user', 'set', 'bob', '--disable', '--enable');
    refused(/^polyprov: nothing to change/, 'user', 'set', 'bob');
    refused(/^polyprov: no user "nobody" \(see: polyprov user list\)\n$/, 'user', 'set', 'nobody', '--disable');
    refused(/^polyprov: user "root" is the last enabled super-admin: add \(or enable\) another super-admin first\n$/, 'user', 'remove', 'root');
    refused(/last enabled super-admin/, 'user', 'set', 'root', '--role', 'read-only');
  });
});

describe('polyprov token', () => {
  test('create prints the token once; it opens the API as its user until revoked', async () => {
    const made = ok('token', 'create', 'bob', '--name', 'billing sync', '--expires-days', '30');
    const lines = made.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^created API token (\d+) for user "bob", expires \d{4}-\d\d-\d\dT.*; shown once, store it now:$/);
    const token = lines[1]!;
    assert.match(token, /^pp_[A-Za-z0-9_-]{43}$/);
    const id = /token (\d+)/.exec(lines[0]!)![1]!;
    assert.equal((await principalForToken(ctx, token))?.username, 'bob');

    const listed = ok('token', 'list', 'bob').stdout.split('\n');
    assert.match(listed[0]!, /^id\s+name\s+prefix\s+created\s+last used\s+expires\s+status$/);
    assert.ok(listed[1]!.startsWith(`${id} `));
    assert.match(listed[1]!, new RegExp(`billing sync\\s+${token.slice(0, 11)}….*\\s+active$`));
    assert.equal(ok('token', 'list', 'bob').stdout.includes(token), false, 'the token itself is never shown again');

    assert.equal(ok('token', 'revoke', id).stdout, `revoked API token ${id} "billing sync" (${token.slice(0, 11)}…)\n`);
    assert.equal(await principalForToken(ctx, token), null);
    assert.match(ok('token', 'list', 'bob').stdout.split('\n')[1]!, /revoked \d{4}-/);

    const json = JSON.parse(ok('token', 'create', 'root', '--name', 'ops', '--json').stdout) as { token: string; id: number; prefix: string; expiresAt: string | null };
    assert.equal(json.expiresAt, null);
    assert.equal((await principalForToken(ctx, json.token))?.role, 'super-admin');

    refused(/^polyprov: no user "nobody"/, 'token', 'create', 'nobody', '--name', 'x');
    refused(/^polyprov: no API token 9999/, 'token', 'revoke', '9999');
    refused(/^polyprov: invalid number of days "0": expected a whole number from 1 to 3650\n$/, 'token', 'create', 'bob', '--name', 'x', '--expires-days', '0');
    refused(/^polyprov: invalid token id "abc"/, 'token', 'revoke', 'abc');
  });
});

describe('polyprov audit', () => {
  test('every change above is listed newest first as (cli), per tenant on request, without a secret', () => {
    const all = JSON.parse(ok('audit', '--json', '--limit', '1000').stdout) as AuditEntry[];
    const oldestFirst = [...all].reverse();
    assert.deepEqual(oldestFirst.map((e) => e.action), ['user.add', 'user.add', 'user.set', 'user.set', 'user.set', 'user.set', 'user.set', 'token.create', 'token.revoke', 'token.create']);
    assert.deepEqual(oldestFirst.slice(0, 7).map((e) => e.target), ['user root', 'user bob', 'user bob', 'user bob', 'user bob', 'user bob', 'user bob']);
    assert.match(oldestFirst[8]!.target, /^token \d+ of user bob$/);
    assert.deepEqual(oldestFirst[5]!.before, { role: 'read-only', tenant: null, disabled: true });
    assert.deepEqual(oldestFirst[5]!.after, { role: 'tenant-admin', tenant: 'beta', disabled: false });
    assert.ok(all.every((e) => e.username === '(cli)' && e.userId === null && e.ip === null));
    const text = ok('audit', '--json', '--limit', '1000').stdout;
    for (const secret of [ROOT_PASSWORD, 'a long phrase he chose']) assert.equal(text.includes(secret), false);

    const beta = JSON.parse(ok('audit', '-t', 'beta', '--json').stdout) as AuditEntry[];
    assert.ok(beta.length >= 2);
    assert.ok(beta.every((e) => e.target.includes('bob')), 'only changes made while bob was in beta');
    const page = ok('audit', '--limit', '2').stdout.trimEnd().split('\n');
    assert.equal(page.length, 3);
    assert.match(page[0]!, /^id\s+at\s+user\s+tenant\s+action\s+target\s+change$/);
    assert.match(page[1]!, /\(cli\)\s+-\s+token\.create\s+token \d+ of user root\s+\{"name":"ops","prefix":"pp_/);
    const older = ok('audit', '--limit', '1', '--before', page[1]!.split(/\s+/)[0]!).stdout.trimEnd().split('\n');
    assert.match(older[1]!, /token\.revoke/);
    refused(/^polyprov: invalid limit "0"/, 'audit', '--limit', '0');
  });

  test('remove deletes the user with its tokens; its history stays', async () => {
    assert.equal(ok('user', 'remove', 'bob').stdout, 'removed user "bob"\n');
    refused(/^polyprov: no user "bob"/, 'token', 'list', 'bob');
    assert.equal(await canLogIn('bob', 'a long phrase he chose'), false);
    const [last] = JSON.parse(ok('audit', '--json', '--limit', '1').stdout) as AuditEntry[];
    assert.deepEqual([last?.action, last?.target, last?.before], ['user.remove', 'user bob', { role: 'tenant-admin', tenant: 'beta', disabled: false }]);
  });
});
