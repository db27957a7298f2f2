import type { Command } from 'commander';
import { createTokenFor, listTokens, revokeToken } from '../admin/admin-auth.js';
import { addUser, listUsers, removeUser, updateUser, type AdminUserInfo, type UserChanges } from '../admin/admin-users.js';
import { AdminError } from '../admin/admin-error.js';
import { listAudit } from '../admin/audit-log.js';
import { requireTenant } from '../admin/tenants.js';
import { ROLES } from '../domain/admin-roles.js';
import type { ApiToken, AuditEntry } from '../store/store.js';
import { withContext } from './admin-commands.js';
import { printJson, printTable } from './print-table.js';

// polyprov user …, token …, audit: administrators of the REST API and console, their API tokens,
// and the audit log. The command line acts as "(cli)": whoever may open the store may do anything,
// and every change is audited under that name.

const ROLE_LIST = ROLES.join(', ');

function wholeNumber(what: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new AdminError(`invalid ${what} "${text}": expected a whole number from ${min} to ${max}`);
  return n;
}

function userLine(u: AdminUserInfo): string {
  const scope = u.role === 'super-admin' ? 'every tenant' : u.tenant === null ? 'every tenant (read only)' : `tenant "${u.tenant}"`;
  return `user "${u.username}": ${u.role} of ${scope}${u.disabled ? ', disabled' : ''}`;
}

function tokenStatus(t: ApiToken, now = Date.now()): string {
  if (t.revokedAt !== null) return `revoked ${t.revokedAt}`;
  if (t.expiresAt !== null && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

/** before → after in one line for the table; --json has them whole. */
function changeSummary(e: AuditEntry): string {
  const parts = [e.before === null ? '' : JSON.stringify(e.before), e.after === null ? '' : JSON.stringify(e.after)];
  const text = parts[0] && parts[1] ? `${parts[0]} -> ${parts[1]}` : parts[0] || parts[1]!;
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

/** Registers `user`, `token` and `audit` on the program. */
export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage administrators of the REST API and console (roles: super-admin, tenant-admin, read-only)');

  user
    .command('add <username>')
    .description('add an administrator; without --password one is generated and printed once')
    .requiredOption('--role <role>', `one of ${ROLE_LIST}`)
    .option('-t, --tenant <slug>', 'the tenant a tenant-admin (required) or read-only user (optional: none reads every tenant) works in')
    .option('--password <password>', 'at least 12 characters (visible to other local users in the process list; leave it out to have one generated)')
    .action(async (username: string, _o, cmd: Command) =>
      withContext(cmd, async (ctx, o) => {
        const r = await addUser(ctx, 'cli', {
          username,
          role: o.role as string,
          ...(o.tenant !== undefined ? { tenant: o.tenant as string } : {}),
          ...(o.password !== undefined ? { password: o.password as string } : {}),
        });
        process.stdout.write(`created ${userLine(r.user)}${r.generated ? `, password ${r.password} (shown once: note it now)` : ''}\n`);
      }),
    );

  user
    .command('list')
    .description('list administrators')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) =>
      withContext(cmd, async (ctx, o) => {
        const all = await listUsers(ctx, 'cli');
        if (o.json) return printJson(all);
        printTable(['user', 'role', 'tenant', 'status', 'created'], all.map((u) => [u.username, u.role, u.tenant ?? (u.role === 'super-admin' ? '(all)' : '(all, read only)'), u.disabled ? 'disabled' : 'enabled', u.createdAt]));
      }),
    );

  user
    .command('set <username>')
    .description("change an administrator's role, tenant or password, or disable or enable it (a new password or disabling logs it out of the console)")
    .option('--role <role>', `one of ${ROLE_LIST}`)
    .option('-t, --tenant <slug>', 'the tenant it works in ("" for none: a read-only user then reads every tenant)')
    .option('--password [password]', 'a new password of at least 12 characters; without a value one is generated and printed once')
    .option('--disable', 'refuse its logins, sessions and tokens')
    .option('--enable', 'allow it again')
    .action(async (username: string, _o, cmd: Command) =>
      withContext(cmd, async (ctx, o) => {
        if (o.disable && o.enable) throw new AdminError('give --disable or --enable, not both');
        const changes: UserChanges = {
          ...(o.role !== undefined ? { role: o.role as string } : {}),
          ...(o.tenant !== undefined ? { tenant: (o.tenant as string) || null } : {}),
          ...(o.password !== undefined ? { password: o.password as string | true } : {}),
          ...(o.disable ? { disabled: true } : o.enable ? { disabled: false } : {}),
        };
        const r = await updateUser(ctx, 'cli', username, changes);
        process.stdout.write(`${userLine(r.user)}${r.password !== undefined ? `; new password ${r.password} (shown once: note it now)` : ''}\n`);
      }),
    );

  user
    .command('remove <username>')
    .description('delete an administrator with its API tokens and sessions (its audit entries stay)')
    .action(async (username: string, _o, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        await removeUser(ctx, 'cli', username);
        process.stdout.write(`removed user "${username}"\n`);
      }),
    );

  const token = program.command('token').description('manage API tokens (Authorization: Bearer pp_…) of administrators, for automation');

  token
    .command('create <username>')
    .description('create an API token acting as that user; it is printed once and cannot be shown again')
    .requiredOption('--name <text>', 'what it is for, e.g. "billing sync"')
    .option('--expires-days <days>', 'days until it stops working (default: never; revoke it when no longer needed)')
    .option('--json', 'print JSON')
    .action(async (username: string, _o, cmd: Command) =>
      withContext(cmd, async (ctx, o) => {
        const days = o.expiresDays === undefined ? undefined : wholeNumber('number of days', o.expiresDays as string, 1, 3650);
        const t = await createTokenFor(ctx, 'cli', username, o.name as string, days);
        if (o.json) return printJson(t);
        process.stdout.write(`created API token ${t.id} for user "${username}", ${t.expiresAt ? `expires ${t.expiresAt}` : 'never expires'}; shown once, store it now:\n${t.token}\n`);
      }),
    );

  token
    .command('list <username>')
    .description("list a user's API tokens (their prefixes; the tokens themselves are never stored)")
    .option('--json', 'print JSON')
    .action(async (username: string, _o, cmd: Command) =>
      withContext(cmd, async (ctx, o) => {
        const all = await listTokens(ctx, 'cli', username);
        if (o.json) return printJson(all);
        printTable(['id', 'name', 'prefix', 'created', 'last used', 'expires', 'status'], all.map((t) => [t.id, t.name, `${t.prefix}…`, t.createdAt, t.lastUsedAt, t.expiresAt ?? 'never', tokenStatus(t)]));
      }),
    );

  token
    .command('revoke <id>')
    .description('revoke an API token at once (see the ids with: polyprov token list <username>)')
    .action(async (id: string, _o, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const t = await revokeToken(ctx, 'cli', wholeNumber('token id', id, 1, Number.MAX_SAFE_INTEGER));
        process.stdout.write(`revoked API token ${t.id} "${t.name}" (${t.prefix}…)\n`);
      }),
    );

  program
    .command('audit')
    .description('show the audit log, newest first: who changed what, when, before and after')
    .option('-t, --tenant <slug>', "only this tenant's changes")
    .option('--limit <n>', 'entries to show (1-1000)', '50')
    .option('--before <id>', 'only entries older than this id (the next page)')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) =>
      withContext(cmd, async (ctx, o) => {
        const tenantId = o.tenant === undefined ? undefined : (await requireTenant(ctx, o.tenant as string)).id;
        const entries = await listAudit(ctx, 'cli', {
          limit: wholeNumber('limit', o.limit as string, 1, 1000),
          ...(tenantId !== undefined ? { tenantId } : {}),
          ...(o.before !== undefined ? { before: wholeNumber('entry id', o.before as string, 1, Number.MAX_SAFE_INTEGER) } : {}),
        });
        if (o.json) return printJson(entries);
        const slugs = new Map((await ctx.store.listTenants()).map((t) => [t.id, t.slug]));
        printTable(
          ['id', 'at', 'user', 'tenant', 'action', 'target', 'change'],
          entries.map((e) => [e.id, e.at, e.username, e.tenantId === null ? null : (slugs.get(e.tenantId) ?? `#${e.tenantId} (removed)`), e.action, e.target, changeSummary(e)]),
        );
      }),
    );
}
