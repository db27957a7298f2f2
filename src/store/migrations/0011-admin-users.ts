// Administrators of the REST API and console, their API tokens and sessions, the audit log, and
// failed logins for rate limiting.
// - admin_users: user names are unique whatever their case (an expression index on lower()),
//   kept as typed for display. tenant_id is null for super-admins and all-tenant read-only users;
//   deleting a tenant deletes its users.
// - api_tokens and admin_sessions keep only SHA-256 hashes of their secrets (the token, the
//   session cookie), so a copy of the database opens no door. Both go with their user.
// - audit_log refers to no other table: an entry must outlive the user, the tenant and whatever
//   it names, so it copies the user name and keeps the ids as plain numbers.
// - login_failures is a table rather than memory because serve runs several workers (and
//   machines on PostgreSQL): a limit per worker would multiply by the worker count. One row per
//   failure and key (user name + address, address alone); rows older than the window are deleted
//   as new failures come in.

import { sql } from 'kysely';
import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/** As in 0001: `integer primary key autoincrement` on SQLite, identity column on PostgreSQL. */
function addId<T extends string>(b: CreateTableBuilder<T, never>, dialect: Dialect): CreateTableBuilder<T, 'id'> {
  return dialect === 'sqlite'
    ? b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : b.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity());
}

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await addId(db.schema.createTable('admin_users'), dialect)
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'integer', (c) => c.references('tenants.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('admin_users_username').on('admin_users').unique().expression(sql`lower(username)`).execute();
  // The cascade from tenants.
  await db.schema.createIndex('admin_users_tenant_id').on('admin_users').column('tenant_id').execute();

  await addId(db.schema.createTable('api_tokens'), dialect)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('admin_users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('expires_at', 'text')
    .execute();
  await db.schema.createIndex('api_tokens_user_id').on('api_tokens').column('user_id').execute();

  await db.schema
    .createTable('admin_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('admin_users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('admin_sessions_user_id').on('admin_sessions').column('user_id').execute();

  await addId(db.schema.createTable('audit_log'), dialect)
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer')
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'integer')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('before_json', 'text')
    .addColumn('after_json', 'text')
    .addColumn('ip', 'text')
    .execute();
  // One tenant's entries newest first (the primary key serves the unfiltered list).
  await db.schema.createIndex('audit_log_tenant_id').on('audit_log').columns(['tenant_id', 'id']).execute();

  await addId(db.schema.createTable('login_failures'), dialect)
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  // The newest failures of one key; and forgetting old ones by time.
  await db.schema.createIndex('login_failures_key_at').on('login_failures').columns(['key', 'at']).execute();
  await db.schema.createIndex('login_failures_at').on('login_failures').column('at').execute();
}
