import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthenticationFailed, TooManyAttempts } from '../../src/admin/admin-auth.js';
import { AdminError } from '../../src/admin/admin-error.js';
import { etagOf, parseIfMatch } from '../../src/admin/api/etag.js';
import { nextLink, pageOf } from '../../src/admin/api/pagination.js';
import { parseScopeParam } from '../../src/admin/api/parameter-scope.js';
import { ApiProblem, problemFor } from '../../src/admin/api/problem-json.js';
import { PermissionDenied } from '../../src/domain/admin-roles.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { ConflictError, NotFoundError } from '../../src/store/errors.js';

// The admin API's pure pieces: which status each service error becomes, scopes, pages, ETags.

describe('problemFor', () => {
  test('maps each error class to its status, keeping the message as detail', () => {
    const cases: [Error, number][] = [
      [new PermissionDenied('alice may not write'), 403],
      [new NotFoundError('no token 7'), 404],
      [new ConflictError('site "hq" already exists'), 409],
      [new AdminError('invalid slug'), 400],
      [new DomainError('invalid MAC'), 400],
      [new AuthenticationFailed('wrong user name or password'), 401],
      [new ApiProblem(412, 'stale'), 412],
    ];
    for (const [err, status] of cases) {
      const { problem } = problemFor(err, '/api/v1/x');
      assert.equal(problem.status, status, err.name);
      assert.equal(problem.detail, err.message);
      assert.equal(problem.instance, '/api/v1/x');
      assert.equal(problem.type, 'about:blank');
    }
  });

  test('429 carries Retry-After; an unknown error is 500 without its message', () => {
    assert.deepEqual(problemFor(new TooManyAttempts(42), '/').headers, { 'retry-after': '42' });
    const { problem } = problemFor(new Error('SQLITE_BUSY: secret internals'), '/');
    assert.equal(problem.status, 500);
    assert.doesNotMatch(problem.detail, /SQLITE/);
  });
});

describe('parseScopeParam', () => {
  test('reads every layer kind and refuses the rest with an example', () => {
    assert.deepEqual(parseScopeParam('tenant'), {});
    assert.deepEqual(parseScopeParam('site:hq'), { site: 'hq' });
    assert.deepEqual(parseScopeParam('group:sales'), { group: 'sales' });
    assert.deepEqual(parseScopeParam('model:VVX_450'), { model: 'VVX_450' });
    assert.deepEqual(parseScopeParam('device:0004f2a1b2c3'), { device: '0004f2a1b2c3' });
    for (const bad of ['site:', 'planet:earth', 'site', '']) {
      assert.throws(() => parseScopeParam(bad), (e: unknown) => e instanceof ApiProblem && e.status === 400 && /site:<slug>/.test(e.message));
    }
  });
});

describe('pageOf', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  test('pages by key after the cursor; next is null on the last page', () => {
    assert.deepEqual(pageOf(items, (x) => x, 2, undefined), { items: ['a', 'b'], next: 'b' });
    assert.deepEqual(pageOf(items, (x) => x, 2, 'b'), { items: ['c', 'd'], next: 'd' });
    assert.deepEqual(pageOf(items, (x) => x, 2, 'd'), { items: ['e'], next: null });
    assert.deepEqual(pageOf(items, (x) => x, 5, undefined), { items, next: null });
    assert.deepEqual(pageOf(items, (x) => x, 2, 'bb'), { items: ['c', 'd'], next: 'd' }, 'a removed item does not break paging');
  });
  test('nextLink replaces the cursor and keeps the filters', () => {
    assert.equal(nextLink('/api/v1/t/devices?limit=2&cursor=a&site=hq', 'b'), '</api/v1/t/devices?limit=2&cursor=b&site=hq>; rel="next"');
  });
});

describe('etag', () => {
  test('changes with the representation, not between equal ones', () => {
    assert.equal(etagOf({ a: 1 }), etagOf({ a: 1 }));
    assert.notEqual(etagOf({ a: 1 }), etagOf({ a: 2 }));
    assert.match(etagOf({}), /^"[A-Za-z0-9_-]{27}"$/);
  });
  test('If-Match lists', () => {
    assert.deepEqual(parseIfMatch(' "a", "b" ,*'), ['"a"', '"b"', '*']);
  });
});
