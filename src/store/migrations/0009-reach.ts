// Reaching phones: results of SIP NOTIFY check-sync and Push API requests (reach_results), and bulk
// resync jobs (reach_jobs) whose fixed device lists (reach_job_devices) record each device's latest
// outcome, so a job left running by a stopped process can be resumed where it was.
// - A job's done count and outcome counts are computed from reach_job_devices, not stored twice.
// - rate and jitter may be fractional: real on SQLite, double precision on PostgreSQL (its `real`
//   is 4 bytes and would turn 0.1 into 0.100000001).
// - reach_results only grows; pruning old results comes later. reach_results_latest serves "the
//   newest result per device and method" (max(id) per group) and one device's history;
//   reach_results_job_id serves the ON DELETE SET NULL from reach_jobs.
// - reach_jobs must exist before reach_results, which refers to it.

import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/** As in 0001: `integer primary key autoincrement` on SQLite, identity column on PostgreSQL. */
function addId<T extends string>(b: CreateTableBuilder<T, never>, dialect: Dialect): CreateTableBuilder<T, 'id'> {
  return dialect === 'sqlite'
    ? b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : b.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity());
}

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const fraction = dialect === 'sqlite' ? 'real' : 'double precision';

  await addId(db.schema.createTable('reach_jobs'), dialect)
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('selector', 'text', (c) => c.notNull())
    .addColumn('rate', fraction, (c) => c.notNull())
    .addColumn('jitter', fraction, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // Listing a tenant's jobs newest first, and the cascade from tenants.
  await db.schema.createIndex('reach_jobs_tenant_id').on('reach_jobs').columns(['tenant_id', 'id']).execute();

  await db.schema
    .createTable('reach_job_devices')
    .addColumn('job_id', 'integer', (c) => c.notNull().references('reach_jobs.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addPrimaryKeyConstraint('reach_job_devices_pk', ['job_id', 'mac'])
    // Also the index that reads a job's pending devices in order.
    .addUniqueConstraint('reach_job_devices_position', ['job_id', 'position'])
    .execute();

  await addId(db.schema.createTable('reach_results'), dialect)
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('job_id', 'integer', (c) => c.references('reach_jobs.id').onDelete('set null'))
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reach_results_latest').on('reach_results').columns(['tenant_id', 'mac', 'method', 'id']).execute();
  await db.schema.createIndex('reach_results_job_id').on('reach_results').column('job_id').execute();
}
