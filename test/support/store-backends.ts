// Fresh databases for store tests on both backends: a new data folder for SQLite, a new database in
// one throwaway PostgreSQL cluster per test file. Everything opened is closed and removed by stop().

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres.js';

export type BackendName = 'sqlite' | 'postgres';
export const BACKENDS: readonly BackendName[] = ['sqlite', 'postgres'];

/** A store on a database of its own, and what is needed to reach that database again. */
export interface FreshStore {
  store: Store;
  /** Another store instance on the same database (as another process would open it). */
  open(): Promise<Store>;
  dataDir: string;
  /** Undefined on SQLite. */
  databaseUrl: string | undefined;
}

export interface StoreBackends {
  /** Starts the PostgreSQL cluster: call it in `before`. */
  start(): Promise<void>;
  fresh(backend: BackendName): Promise<FreshStore>;
  /** Closes every store opened so far (an `afterEach` may call it), keeping the cluster. */
  closeOpened(): Promise<void>;
  /** Closes the stores, stops the cluster, removes the folders: call it in `after`. */
  stop(): Promise<void>;
}

/** `tag` names the temp folders and databases, so a leftover says which test file made it. */
export function storeBackends(tag: string): StoreBackends {
  const tempDirs: string[] = [];
  const opened: Store[] = [];
  let cluster: ThrowawayPostgres | undefined;
  let databases = 0;

  async function newDatabase(): Promise<string> {
    if (!cluster) throw new Error('storeBackends: call start() in before() first');
    const name = `${tag.replace(/\W/g, '_')}_${process.pid}_${++databases}`;
    const admin = new pg.Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    return `postgres://postgres@127.0.0.1:${cluster.port}/${name}`;
  }

  return {
    async start() {
      cluster = await startThrowawayPostgres();
    },
    async fresh(backend) {
      const dataDir = mkdtempSync(join(tmpdir(), `polyprov-${tag}-`));
      tempDirs.push(dataDir);
      const databaseUrl = backend === 'postgres' ? await newDatabase() : undefined;
      const open = async () => {
        const s = await openStore({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
        opened.push(s);
        return s;
      };
      return { store: await open(), open, dataDir, databaseUrl };
    },
    async closeOpened() {
      while (opened.length) await opened.pop()!.close().catch(() => undefined);
    },
    async stop() {
      while (opened.length) await opened.pop()!.close().catch(() => undefined);
      await cluster?.stop();
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** A tenant with placeholder credentials, for store tests that only need its id. */
export async function bareTenant(store: Store, slug: string): Promise<number> {
  return (await store.createTenant({ slug, name: slug, provUsername: slug, provPasswordHash: 'h', provDigestHa1: 'd' })).id;
}
