// Log retention per tenant (size cap, kept segments, maximum age), and the offset a phone log's
// current file starts at in the phone's own numbering (bytes rotated away before it).

import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema.alterTable('tenants').addColumn('log_max_bytes', 'bigint', (c) => c.notNull().defaultTo(10 * 1024 * 1024)).execute();
  await db.schema.alterTable('tenants').addColumn('log_segments', 'integer', (c) => c.notNull().defaultTo(5)).execute();
  await db.schema.alterTable('tenants').addColumn('log_max_age_days', 'integer', (c) => c.notNull().defaultTo(90)).execute();
  await db.schema.alterTable('phone_logs').addColumn('base', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}
