// Override policy per tenant: which parameters phones may override (all, an allow-list or a
// deny-list of name patterns, JSON text), and whether the disallowed ones are stripped from the
// override files served back (0/1). Stored uploads are never changed.

import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema.alterTable('tenants').addColumn('override_policy', 'text', (c) => c.notNull().defaultTo('allow-all')).execute();
  await db.schema.alterTable('tenants').addColumn('override_patterns', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('tenants').addColumn('strip_disallowed_overrides', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}
