// Lens-style sites and bulk import:
// - sites gain a description, a location and their subnets (JSON array of { public, private[] },
//   see domain/site-subnets.ts), by which devices are placed in a site on first contact;
// - tenants.rehome_devices (0/1): a device whose address moves into another site's subnets moves
//   with it;
// - devices_mac: the registered devices of other tenants that an import or a dry run names are
//   looked up by MAC alone (the unique index leads with tenant_id); registered and tenant_id are
//   in the index too, so the lookup never reads the table.

import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('sites').addColumn('description', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('sites').addColumn('location', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('sites').addColumn('subnets', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('tenants').addColumn('rehome_devices', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('devices_mac').on('devices').columns(['mac', 'registered', 'tenant_id']).execute();
}
