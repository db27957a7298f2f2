// What `serve` calls to run the admin API on its own port.

import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.js';
import { buildAdminApi, type AdminApiOptions } from './api-app.js';

export interface RunningAdminApi {
  app: FastifyInstance;
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Builds the API and listens on host:port; the caller closes it before closing the store. */
export async function startAdminApi(ctx: AdminContext, opts: AdminApiOptions & { host: string; port: number }): Promise<RunningAdminApi> {
  const app = await buildAdminApi(ctx, opts);
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return { app, port, close: () => app.close() };
}
