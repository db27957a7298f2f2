// Firmware libraries: UC Software releases, per tenant (tenant_id) and one global library shared by
// every tenant (tenant_id null). Only metadata: the image bytes are in the blob store, keyed by
// their SHA-256 (blob_key).
// - scope_key is tenant_id, or 0 for the global library (ids start at 1), so that one unique
//   constraint covers both kinds of library: NULLs never compare equal in a unique constraint.
// - firmware_images_blob_key lets a garbage collector ask whether any release still uses a blob.

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
  await addId(db.schema.createTable('firmware_releases'), dialect)
    .addColumn('tenant_id', 'integer', (c) => c.references('tenants.id').onDelete('cascade'))
    .addColumn('scope_key', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('layout', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('firmware_releases_scope_version', ['scope_key', 'version'])
    .addCheckConstraint('firmware_releases_scope_key', sql`scope_key = coalesce(tenant_id, 0)`)
    .execute();
  // ON DELETE CASCADE from tenants looks releases up by tenant_id.
  await db.schema.createIndex('firmware_releases_tenant_id').on('firmware_releases').column('tenant_id').execute();

  await db.schema
    .createTable('firmware_images')
    .addColumn('release_id', 'integer', (c) => c.notNull().references('firmware_releases.id').onDelete('cascade'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('part_number', 'text')
    .addColumn('models', 'text', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_images_pk', ['release_id', 'file_name'])
    .execute();
  await db.schema.createIndex('firmware_images_blob_key').on('firmware_images').column('blob_key').execute();
}
