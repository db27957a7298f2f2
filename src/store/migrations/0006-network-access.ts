// Access without credentials (TFTP) and the factory FTP login, per tenant:
// - tftp_subnets: client subnets (JSON array of CIDR strings) that select the tenant over TFTP and
//   are the only ones allowed to read its files there;
// - tftp_secrets: 0/1, whether files holding passwords may go out over TFTP;
// - factory_login: 0/1, whether the phones' factory PlcmSpIp/PlcmSpIp login opens the tenant.
// Sites get their own TFTP allow-list (JSON array), checked for the devices placed in them.

import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('tenants').addColumn('tftp_subnets', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('tenants').addColumn('tftp_secrets', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('tenants').addColumn('factory_login', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('sites').addColumn('tftp_subnets', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}
