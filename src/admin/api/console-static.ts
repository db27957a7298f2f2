// The web console's built bundle (web/dist, from `npm run build:web`), served from the admin API's
// port at `/`: files as they are, any other path outside /api/ gets index.html so the console's
// own routes survive a reload. Checked on each request, so a bundle built after start is served.

import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPENAPI_PATH } from './openapi.js';
import { ApiProblem } from './problem-json.js';

/** Where `npm run build:web` writes the bundle (the same from src/ under tsx and from dist/ when compiled). */
export const CONSOLE_BUNDLE_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const NOT_BUILT = 'The polyprov web console is not built yet: run "npm run build:web" (or "npm run build"), then reload this page. The REST API is under /api/v1/.\n';

// The bundle has no inline script or style: nothing else needs allowing.
const CONSOLE_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** A file of the bundle named by a URL path, or undefined when there is none (traversal included). */
function bundleFile(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const relative = normalize(decoded).replace(/^[/\\]+/, '');
  const full = join(root, relative);
  if (relative === '' || !full.startsWith(root + sep)) return undefined;
  try {
    return statSync(full).isFile() ? relative : undefined;
  } catch {
    return undefined;
  }
}

/** Serves the console bundle at `/` (GET only), with index.html for unknown non-API paths. */
export async function registerConsoleStatic(app: FastifyInstance, root: string = CONSOLE_BUNDLE_DIR): Promise<void> {
  await app.register(fastifyStatic, { root, serve: false, decorateReply: true });
  app.get('/*', { schema: { hide: true }, config: { public: true } }, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (path === '/api' || path.startsWith('/api/')) throw new ApiProblem(404, `no route ${request.method} ${path} (see ${OPENAPI_PATH})`);
    if (!existsSync(join(root, 'index.html'))) return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
    const file = bundleFile(root, path);
    // Vite puts content-hashed names under assets/: they never change.
    if (file !== undefined && file.startsWith(`assets${sep}`)) return reply.sendFile(file, root, { maxAge: '365d', immutable: true });
    reply.header('content-security-policy', CONSOLE_CSP).header('cache-control', 'no-cache');
    if (file !== undefined) return reply.sendFile(file, root, { cacheControl: false });
    return reply.sendFile('index.html', root, { cacheControl: false });
  });
}
