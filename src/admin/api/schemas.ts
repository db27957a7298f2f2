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
    username: { type: 'string', description: 'the provisioning user name phones send' },
    appFilePath: { type: 'string' },
    extraConfigFiles: { type: 'array', items: { type: 'string' } },
    logMaxBytes: { type: 'integer' },
    logSegments: { type: 'integer' },
    logMaxAgeDays: { type: 'integer' },
    overridePolicy: { type: 'string', enum: ['allow-all', 'allow-list', 'deny-list'] },
    overridePatterns: { type: 'array', items: { type: 'string' } },
    stripDisallowedOverrides: { type: 'boolean' },
    tftpSubnets: { type: 'array', items: { type: 'string' } },
    tftpSecrets: { type: 'boolean' },
    factoryLogin: { type: 'boolean' },
    rehomeDevices: { type: 'boolean' },
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

export const GROUP_SCHEMA = {
  $id: 'Group',
  type: 'object',
  required: ['slug', 'name'],
  properties: { slug: { type: 'string' }, name: { type: 'string' } },
} as const;

export const MODEL_POLICY_SCHEMA = {
  $id: 'ModelPolicy',
  type: 'object',
  required: ['model', 'appFilePath'],
  properties: {
    model: { type: 'string', description: 'as phones report it, e.g. VVX_500' },
    appFilePath: { ...nullableString, description: "this model's APP_FILE_PATH, or null for the tenant's" },
  },
} as const;

export const USER_SCHEMA = {
  $id: 'User',
  type: 'object',
  required: ['username', 'role', 'tenant', 'disabled', 'createdAt'],
  properties: {
    username: { type: 'string' },
    role: { type: 'string', enum: ['super-admin', 'tenant-admin', 'read-only'] },
    tenant: { ...nullableString, description: 'the tenant the user is limited to, or null (every tenant)' },
    disabled: { type: 'boolean' },
    createdAt: { type: 'string' },
  },
} as const;

export const API_TOKEN_SCHEMA = {
  $id: 'ApiToken',
  type: 'object',
  description: 'An API token as lists show it: never the token itself.',
  required: ['id', 'name', 'prefix', 'createdAt', 'lastUsedAt', 'revokedAt', 'expiresAt'],
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    createdAt: { type: 'string' },
    lastUsedAt: nullableString,
    revokedAt: nullableString,
    expiresAt: nullableString,
  },
} as const;

export const AUDIT_ENTRY_SCHEMA = {
  $id: 'AuditEntry',
  type: 'object',
  required: ['id', 'at', 'username', 'tenant', 'action', 'target', 'before', 'after', 'ip'],
  properties: {
    id: { type: 'integer' },
    at: { type: 'string' },
    username: { type: 'string' },
    tenant: { ...nullableString, description: "the tenant changed, or null for what belongs to none (users)" },
    action: { type: 'string' },
    target: { type: 'string' },
    before: { description: 'the value before the change (secrets masked), or null' },
    after: { description: 'the value after the change (secrets masked), or null' },
    ip: nullableString,
  },
} as const;

export const REACH_JOB_SCHEMA = {
  $id: 'ReachJob',
  type: 'object',
  description: 'A resync job: its devices are fixed when it is created, and reached at its pace.',
  required: ['id', 'via', 'selector', 'rate', 'jitter', 'status', 'total', 'done', 'outcomes', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'integer' },
    via: { type: 'string', enum: ['notify', 'push'] },
    selector: { type: 'object', additionalProperties: { type: 'string' }, description: 'how the devices were chosen, for people' },
    rate: { type: 'number', description: 'devices per second' },
    jitter: { type: 'number' },
    status: { type: 'string', enum: ['running', 'done', 'cancelled'] },
    total: { type: 'integer' },
    done: { type: 'integer' },
    outcomes: { type: 'object', additionalProperties: { type: 'integer' } },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

export const REACH_RESULT_SCHEMA = {
  $id: 'ReachResult',
  type: 'object',
  required: ['mac', 'via', 'outcome', 'status', 'detail', 'target', 'job', 'at'],
  properties: {
    mac: { type: 'string' },
    via: { type: 'string', enum: ['notify', 'push'] },
    outcome: { type: 'string', enum: ['ok', 'rejected', 'timeout', 'error'] },
    status: { type: ['integer', 'null'], description: 'SIP or HTTP status of the final answer' },
    detail: { type: 'string' },
    target: { type: 'string' },
    job: { type: ['integer', 'null'], description: 'the resync job, or null for a one-off' },
    at: { type: 'string' },
  },
} as const;

/** Path parameters of a route under one device. */
export const DEVICE_PATH_PARAMS = {
  type: 'object',
  required: ['tenant', 'mac'],
  properties: {
    tenant: { type: 'string', minLength: 1, maxLength: 64, description: "the tenant's slug" },
    mac: { type: 'string', minLength: 12, maxLength: 17, description: '12 hex digits, with or without : or - separators' },
  },
} as const;

/** Every shared schema, registered with app.addSchema. */
export const SHARED_SCHEMAS = [PROBLEM_SCHEMA, TENANT_SCHEMA, SITE_SCHEMA, DEVICE_SCHEMA, PARAMETER_LAYER_SCHEMA, GROUP_SCHEMA, MODEL_POLICY_SCHEMA, USER_SCHEMA, API_TOKEN_SCHEMA, AUDIT_ENTRY_SCHEMA, REACH_JOB_SCHEMA, REACH_RESULT_SCHEMA];

const problemResponse = (description: string) => ({ description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } } });

/** The error responses of an authenticated route; `extra` adds route-specific ones (404, 409, 412, 428). */
export function errorResponses(...extra: (400 | 404 | 409 | 412 | 413 | 428 | 429)[]): Record<string, unknown> {
  const all: Record<number, string> = {
    400: 'The request is invalid: detail says what to fix.',
    401: 'No credentials, or they are no longer valid.',
    403: 'The role or tenant does not allow this, or a session change lacks its CSRF token.',
    404: 'No such resource.',
    409: 'It conflicts with what exists.',
    412: 'The resource changed since it was read (stale If-Match).',
    413: 'The body is larger than the route accepts.',
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
