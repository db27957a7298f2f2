// Staged firmware rollouts: a fixed set of one tenant's devices (rollout_members, MAC and wave
// index) moving from one firmware version to another in waves.
// - selector and waves are JSON text, like the other list columns.
// - wave_interval_ms and deadline_ms are bigint like the other large numbers (file sizes);
//   max_failure_percent may be fractional: real on SQLite, double precision on PostgreSQL.
// - `window` is a reserved word in PostgreSQL: Kysely always quotes identifiers, so raw SQL must too.
// - rollout_members_mac serves the check that a device is in at most one running or paused
//   rollout; the primary key (rollout_id, mac) serves the cascade from rollouts.

import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/** As in 0001: `integer primary key autoincrement` on SQLite, identity column on PostgreSQL. */
function addId<T extends string>(b: CreateTableBuilder<T, never>, dialect: Dialect): CreateTableBuilder<T, 'id'> {
  return dialect === 'sqlite'
    ? b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : b.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity());
}

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await addId(db.schema.createTable('rollouts'), dialect)
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('from_version', 'text', (c) => c.notNull())
    .addColumn('to_version', 'text', (c) => c.notNull())
    .addColumn('selector', 'text', (c) => c.notNull())
    .addColumn('waves', 'text', (c) => c.notNull())
    .addColumn('wave_interval_ms', 'bigint', (c) => c.notNull())
    .addColumn('deadline_ms', 'bigint', (c) => c.notNull())
    .addColumn('max_failure_percent', dialect === 'sqlite' ? 'real' : 'double precision', (c) => c.notNull())
    .addColumn('window', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('current_wave', 'integer', (c) => c.notNull())
    .addColumn('wave_started_at', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    // Also the index the cascade from tenants uses (tenant_id leads).
    .addUniqueConstraint('rollouts_tenant_name', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('rollout_members')
    .addColumn('rollout_id', 'integer', (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('wave', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollout_members_pk', ['rollout_id', 'mac'])
    .execute();
  await db.schema.createIndex('rollout_members_mac').on('rollout_members').column('mac').execute();
}
