// Shared JSON schemas of the API's representations (components of the OpenAPI document), and the
// error responses every route declares. Routes refer to them as { $ref: 'Name#' }.

import { PROBLEM_CONTENT_TYPE, PROBLEM_SCHEMA } from './problem-json.js';

const nullableString = { type: ['string', 'null'] } as const;

export const TENANT_SCHEMA = {
  $id: 'Tenant',
  type: 'object',
  required: ['slug', 'name', 'pathPrefix', 'hostnames', 'unknownDevices', 'createdAt'],
  properties: {
    slug: { type: 'string' },
    name: { type: 'string' },
    pathPrefix: nullableString,
    hostnames: { type: 'array', items: { type: 'string' } },
    unknownDevices: { type: 'string', enum: ['serve', 'refuse'] },
    createdAt: { type: 'string' },
  },
} as const;

export const SITE_SCHEMA = {
  $id: 'Site',
  type: 'object',
  required: ['slug', 'name', 'description', 'location', 'tftpSubnets'],
  properties: {
    slug: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    location: { type: 'string' },
    tftpSubnets: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const DEVICE_SCHEMA = {
  $id: 'Device',
  type: 'object',
  required: ['mac', 'registered', 'label', 'site', 'group', 'inventory'],
  properties: {
    mac: { type: 'string' },
    registered: { type: 'boolean' },
    label: { type: 'string' },
    site: nullableString,
    group: nullableString,
    appFilePath: nullableString,
    inventory: {
      type: 'object',
      description: 'What the phone last reported; written by the provisioning server, never by administrators.',
      properties: {
        firstSeen: nullableString,
        lastSeen: nullableString,
        lastIp: nullableString,
        model: nullableString,
        firmware: nullableString,
        updaterVersion: nullableString,
        phase: nullableString,
        serial: nullableString,
        lastFile: nullableString,
        userAgent: nullableString,
      },
    },
  },
} as const;

export const PARAMETER_LAYER_SCHEMA = {
  $id: 'ParameterLayer',
  type: 'object',
  required: ['scope', 'parameters'],
  properties: {
    scope: { type: 'string', description: 'tenant, site:<slug>, group:<slug>, model:<model> or device:<mac>' },
    parameters: { type: 'object', additionalProperties: { type: 'string' } },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** Every shared schema, registered with app.addSchema. */
export const SHARED_SCHEMAS = [PROBLEM_SCHEMA, TENANT_SCHEMA, SITE_SCHEMA, DEVICE_SCHEMA, PARAMETER_LAYER_SCHEMA];

const problemResponse = (description: string) => ({ description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } } });

/** The error responses of an authenticated route; `extra` adds route-specific ones (404, 409, 412, 428). */
export function errorResponses(...extra: (400 | 404 | 409 | 412 | 428 | 429)[]): Record<string, unknown> {
  const all: Record<number, string> = {
    400: 'The request is invalid: detail says what to fix.',
    401: 'No credentials, or they are no longer valid.',
    403: 'The role or tenant does not allow this, or a session change lacks its CSRF token.',
    404: 'No such resource.',
    409: 'It conflicts with what exists.',
    412: 'The resource changed since it was read (stale If-Match).',
    428: 'The edit needs If-Match.',
    429: 'Too many failed logins: retry after Retry-After seconds.',
  };
  const codes = [400, 401, 403, ...extra];
  return Object.fromEntries(codes.map((c) => [String(c), problemResponse(all[c]!)]));
}

/** The response of a route that answers a JSON page. */
export function pageSchema(itemRef: string) {
  return {
    type: 'object',
    required: ['items', 'next'],
    properties: { items: { type: 'array', items: { $ref: `${itemRef}#` } }, next: nullableString },
  } as const;
}

/** ETag response header. */
export const ETAG_HEADER = { ETag: { type: 'string', description: 'send it back in If-Match to edit' } } as const;

/** If-Match request header of edits. */
export const IF_MATCH_HEADERS = {
  type: 'object',
  properties: { 'if-match': { type: 'string', description: 'the ETag of the representation the edit is based on' } },
} as const;
