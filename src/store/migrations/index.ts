// Migrations are listed here in code (no directory scanning), so they run the same from tsx and
// from the compiled dist/. Append new ones; never edit or reorder an applied one.

import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../schema.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-phone-uploads.js';
import * as m0003 from './0003-phone-logs.js';
import * as m0004 from './0004-log-retention.js';
import * as m0005 from './0005-override-policy.js';
import * as m0006 from './0006-network-access.js';
import * as m0007 from './0007-firmware-library.js';
import * as m0008 from './0008-rollouts.js';
import * as m0009 from './0009-reach.js';
import * as m0010 from './0010-site-subnets-import.js';
import * as m0011 from './0011-admin-users.js';
import * as m0012 from './0012-request-metrics.js';

type DialectMigration = { up(db: Kysely<any>, dialect: Dialect): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001-initial': m0001,
  '0002-phone-uploads': m0002,
  '0003-phone-logs': m0003,
  '0004-log-retention': m0004,
  '0005-override-policy': m0005,
  '0006-network-access': m0006,
  '0007-firmware-library': m0007,
  '0008-rollouts': m0008,
  '0009-reach': m0009,
  '0010-site-subnets-import': m0010,
  '0011-admin-users': m0011,
  '0012-request-metrics': m0012,
};

export class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, m] of Object.entries(MIGRATIONS)) out[name] = { up: (db) => m.up(db, this.dialect) };
    return out;
  }
}
