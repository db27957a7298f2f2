// The `scope` query value naming one parameter layer of a tenant: `tenant`, `site:<slug>`,
// `group:<slug>`, `model:<model>` or `device:<mac>`.

import type { FastifyRequest } from 'fastify';
import type { ScopeSelector } from '../parameters.js';
import { ApiProblem } from './problem-json.js';

export const SCOPE_PATTERN = '^(tenant|(site|group|model|device):[^\\s]{1,64})$';

/** The selector the parameter services take, or 400 saying what a scope looks like. */
export function parseScopeParam(text: string): ScopeSelector {
  if (text === 'tenant') return {};
  const at = text.indexOf(':');
  const kind = at === -1 ? text : text.slice(0, at);
  const ref = at === -1 ? '' : text.slice(at + 1);
  if (ref !== '' && (kind === 'site' || kind === 'group' || kind === 'model' || kind === 'device')) return { [kind]: ref };
  throw new ApiProblem(400, `invalid scope "${text}": use tenant, site:<slug>, group:<slug>, model:<model> (e.g. model:VVX_450) or device:<mac>`);
}

/** The `?scope=` querystring of the routes that address one layer (parameters, firmware target). */
export const SCOPE_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { scope: { type: 'string', pattern: SCOPE_PATTERN, default: 'tenant', description: 'the layer: tenant, site:<slug>, group:<slug>, model:<model> or device:<mac>' } },
} as const;

/** The request's layer, as given (`text`, for answers and audit) and as the services take it. */
export function scopeOf(request: FastifyRequest): { text: string; sel: ScopeSelector } {
  const text = (request.query as { scope: string }).scope;
  return { text, sel: parseScopeParam(text) };
}
