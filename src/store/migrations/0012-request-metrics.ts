// Provisioning requests counted per tenant, minute and protocol (the console's dashboard chart).
// - One row per (tenant, minute, protocol) with its ok and failed counts. Workers keep counts in
//   memory and add them with upsert-increments every few seconds (provisioning/request-counter.ts),
//   so rows are written once per flush, never once per request, and several workers (or machines
//   on PostgreSQL) add into the same row.
// - minute is whole minutes since the Unix epoch (UTC), an integer rather than ISO text: reading
//   N-minute buckets is then `minute / N * N` on both dialects, and the range read is an integer
//   range on the primary key.
// - tenant_id 0 holds requests no tenant was known for (refused before a tenant authenticated:
//   bad paths, no or wrong credentials, TFTP from an unknown subnet). Hence no foreign key to
//   tenants; deleteTenant deletes its rows itself.
// - Rows older than the retention are pruned by minute (request_metrics_minute), at most hourly.

import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('request_metrics')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('minute', 'integer', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    // Also the index of "one tenant's minutes in a range".
    .addPrimaryKeyConstraint('request_metrics_pk', ['tenant_id', 'minute', 'protocol'])
    .execute();
  await db.schema.createIndex('request_metrics_minute').on('request_metrics').column('minute').execute();
}
