import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACTIONS, can, checkRoleScope, isRole, PermissionDenied, requirePermission, requireRole, ROLES, type Action, type Principal, type Role } from '../../src/domain/admin-roles.js';
import { DomainError } from '../../src/domain/domain-error.js';

const OWN = 1;
const OTHER = 2;
/** The tenants every action is asked about: the principal's own, another, and none (null). */
const TARGETS = [OWN, OTHER, null] as const;

// Every principal shape against every action and target. Each cell is y (allowed) or n, one
// letter per target in TARGETS order, one group per action in ACTIONS order:
//                                           read  write manage-users manage-tenants
const TABLE: [Role, number | null, string][] = [
  ['super-admin', null, /*                */ 'yyy   yyy   yyy          yyy'],
  ['tenant-admin', OWN, /*                */ 'ynn   ynn   nnn          nnn'],
  ['read-only', OWN, /*                   */ 'ynn   nnn   nnn          nnn'],
  ['read-only', null, /*                  */ 'yyy   nnn   nnn          nnn'],
  // Shapes the store refuses (checkRoleScope): may do nothing, should one ever reach `can`.
  ['super-admin', OWN, /*                 */ 'nnn   nnn   nnn          nnn'],
  ['tenant-admin', null, /*               */ 'nnn   nnn   nnn          nnn'],
];

function principal(role: Role, tenantId: number | null): Principal {
  return { userId: 7, username: 'alice', role, tenantId, via: 'session' };
}

describe('can', () => {
  test('the table covers every role and action', () => {
    assert.deepEqual([...new Set(TABLE.map(([role]) => role))].sort(), [...ROLES].sort());
    for (const [, , cells] of TABLE) assert.equal(cells.split(/\s+/).length, ACTIONS.length);
  });

  for (const [role, own, cells] of TABLE) {
    test(`${role} of ${own === null ? 'no tenant' : 'tenant ' + own}`, () => {
      const groups = cells.split(/\s+/);
      ACTIONS.forEach((action: Action, a) => {
        TARGETS.forEach((target, t) => {
          const expected = groups[a]![t] === 'y';
          assert.equal(can(principal(role, own), action, target), expected, `${role}(${own}) ${action} on ${target}`);
          // `via` changes nothing: a token may do what a session may.
          assert.equal(can({ ...principal(role, own), via: 'token' } as Principal, action, target), expected);
        });
      });
    });
  }

  test('an unknown role may do nothing', () => {
    for (const action of ACTIONS) for (const target of TARGETS) assert.equal(can({ role: 'root' as Role, tenantId: null }, action, target), false);
  });
});

describe('roles', () => {
  test('isRole and requireRole know exactly the three roles', () => {
    for (const r of ROLES) {
      assert.equal(isRole(r), true);
      assert.equal(requireRole(r), r);
    }
    for (const bad of ['admin', 'Super-Admin', '', 'readonly']) {
      assert.equal(isRole(bad), false);
      assert.throws(() => requireRole(bad), (e: unknown) => e instanceof DomainError && /unknown role ".*": expected super-admin, tenant-admin, read-only/.test(e.message));
    }
    assert.equal(isRole(undefined), false);
  });

  test('checkRoleScope: a super-admin has no tenant, a tenant-admin has one, a reader either', () => {
    checkRoleScope('super-admin', null);
    checkRoleScope('tenant-admin', OWN);
    checkRoleScope('read-only', OWN);
    checkRoleScope('read-only', null);
    assert.throws(() => checkRoleScope('super-admin', OWN), (e: unknown) => e instanceof DomainError && /covers every tenant: give no tenant/.test(e.message));
    assert.throws(() => checkRoleScope('tenant-admin', null), (e: unknown) => e instanceof DomainError && /works in one tenant: name it/.test(e.message));
  });

  test('requirePermission passes what can allows and says what is missing otherwise', () => {
    requirePermission(principal('tenant-admin', OWN), 'write', OWN);
    assert.throws(
      () => requirePermission(principal('tenant-admin', OWN), 'write', OTHER),
      (e: unknown) => e instanceof PermissionDenied && e instanceof DomainError && e.message === 'alice (tenant-admin of tenant 1) may not write in tenant 2: ask a super-admin',
    );
    assert.throws(() => requirePermission(principal('read-only', null), 'manage-users', null), (e: unknown) => e instanceof PermissionDenied && /read-only of every tenant\) may not manage administrators/.test(e.message));
    assert.throws(() => requirePermission(principal('tenant-admin', OWN), 'read', null), (e: unknown) => e instanceof PermissionDenied && /may not read outside a tenant/.test(e.message));
  });
});
