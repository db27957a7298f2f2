// The initial schema. Written once for both dialects; the only difference is how an
// auto-increment id column is declared (see `addId`).

import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

type Db = Kysely<any>;

/** `integer primary key autoincrement` on SQLite (ids never reused), identity column on PostgreSQL. */
function addId<T extends string>(b: CreateTableBuilder<T, never>, dialect: Dialect): CreateTableBuilder<T, 'id'> {
  return dialect === 'sqlite'
    ? b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : b.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity());
}

function tenantFk(c: ColumnDefinitionBuilder): ColumnDefinitionBuilder {
  return c.notNull().references('tenants.id').onDelete('cascade');
}

export async function up(db: Db, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('revision')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('value', 'integer', (c) => c.notNull())
    .execute();
  await db.insertInto('revision').values({ id: 1, value: 0 }).execute();

  await addId(db.schema.createTable('tenants'), dialect)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prov_username', 'text', (c) => c.notNull().unique())
    .addColumn('prov_password_hash', 'text', (c) => c.notNull())
    .addColumn('prov_digest_ha1', 'text', (c) => c.notNull())
    .addColumn('path_prefix', 'text', (c) => c.unique())
    .addColumn('unknown_devices', 'text', (c) => c.notNull())
    .addColumn('app_file_path', 'text', (c) => c.notNull())
    .addColumn('extra_config_files', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tenant_hostnames')
    .addColumn('hostname', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'integer', tenantFk)
    .execute();
  await db.schema.createIndex('tenant_hostnames_tenant_id').on('tenant_hostnames').column('tenant_id').execute();

  for (const table of ['sites', 'device_groups']) {
    await addId(db.schema.createTable(table), dialect)
      .addColumn('tenant_id', 'integer', tenantFk)
      .addColumn('slug', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addUniqueConstraint(`${table}_tenant_slug`, ['tenant_id', 'slug'])
      .execute();
  }

  await addId(db.schema.createTable('model_policies'), dialect)
    .addColumn('tenant_id', 'integer', tenantFk)
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('app_file_path', 'text')
    .addUniqueConstraint('model_policies_tenant_model', ['tenant_id', 'model'])
    .execute();

  await addId(db.schema.createTable('devices'), dialect)
    .addColumn('tenant_id', 'integer', tenantFk)
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('registered', 'integer', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('site_id', 'integer', (c) => c.references('sites.id').onDelete('set null'))
    .addColumn('group_id', 'integer', (c) => c.references('device_groups.id').onDelete('set null'))
    .addColumn('app_file_path', 'text')
    .addColumn('first_seen', 'text')
    .addColumn('last_seen', 'text')
    .addColumn('last_ip', 'text')
    .addColumn('model', 'text')
    .addColumn('firmware', 'text')
    .addColumn('updater_version', 'text')
    .addColumn('phase', 'text')
    .addColumn('serial', 'text')
    .addColumn('last_file', 'text')
    .addColumn('user_agent', 'text')
    .addUniqueConstraint('devices_tenant_mac', ['tenant_id', 'mac'])
    .execute();
  // ON DELETE SET NULL looks devices up by site/group: index those columns.
  await db.schema.createIndex('devices_site_id').on('devices').column('site_id').execute();
  await db.schema.createIndex('devices_group_id').on('devices').column('group_id').execute();

  await addId(db.schema.createTable('parameters'), dialect)
    .addColumn('tenant_id', 'integer', tenantFk)
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addUniqueConstraint('parameters_tenant_scope_name', ['tenant_id', 'scope', 'scope_id', 'name'])
    .execute();

  await db.schema
    .createTable('files')
    .addColumn('tenant_id', 'integer', tenantFk)
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('files_pk', ['tenant_id', 'path'])
    .execute();
}
