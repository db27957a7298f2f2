// Errors as RFC 9457 problem details (application/problem+json), for every route: the API's own
// refusals (ApiProblem), fastify's schema validation, and the errors the admin services throw.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PermissionDenied } from '../../domain/admin-roles.js';
import { DomainError } from '../../domain/domain-error.js';
import { ConflictError, NotFoundError } from '../../store/errors.js';
import { AuthenticationFailed, TooManyAttempts } from '../admin-auth.js';
import { AdminError } from '../admin-error.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One field a request got wrong: where (a JSON pointer into the request part) and what to fix. */
export interface ProblemFieldError {
  pointer: string;
  detail: string;
}

/** The body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: ProblemFieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** A refusal the API decides itself; `headers` go out with it (Retry-After, WWW-Authenticate). */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  constructor(
    readonly status: number,
    detail: string,
    readonly headers: Record<string, string> = {},
    readonly errors?: ProblemFieldError[],
  ) {
    super(detail);
  }
}

/** The JSON schema of a problem body, registered once as a shared schema. */
export const PROBLEM_SCHEMA = {
  $id: 'Problem',
  type: 'object',
  description: 'An error (RFC 9457 problem details); detail says what to do.',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['pointer', 'detail'], properties: { pointer: { type: 'string' }, detail: { type: 'string' } } },
    },
  },
} as const;

function problem(status: number, detail: string, instance?: string, errors?: ProblemFieldError[]): Problem {
  return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, ...(instance ? { instance } : {}), ...(errors?.length ? { errors } : {}) };
}

interface AjvError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** One line per schema violation, naming the field and what it must be. */
function validationErrors(err: FastifyError): ProblemFieldError[] {
  const where = err.validationContext ?? 'body';
  return (err.validation as AjvError[] | undefined ?? []).map((v) => {
    let pointer = v.instancePath ?? '';
    let detail = v.message ?? 'is invalid';
    if (v.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string') {
      pointer = `${pointer}/${v.params.additionalProperty}`;
      detail = 'is not a known field: remove it (see /api/v1/openapi.json)';
    } else if (v.keyword === 'required' && typeof v.params?.missingProperty === 'string') {
      pointer = `${pointer}/${v.params.missingProperty}`;
      detail = 'is required';
    } else if (v.keyword === 'enum' && Array.isArray(v.params?.allowedValues)) {
      detail = `must be one of ${v.params.allowedValues.map((a) => JSON.stringify(a)).join(', ')}`;
    }
    return { pointer: `${where}${pointer}`, detail };
  });
}

/** The status and body for any error a route or hook threw. Unknown errors are 500 without their message. */
export function problemFor(err: unknown, instance: string): { problem: Problem; headers: Record<string, string> } {
  if (err instanceof ApiProblem) return { problem: problem(err.status, err.message, instance, err.errors), headers: err.headers };
  const fe = err as FastifyError;
  if (fe && Array.isArray(fe.validation)) {
    const errors = validationErrors(fe);
    const detail = `the request is invalid: ${errors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`;
    return { problem: problem(400, detail, instance, errors), headers: {} };
  }
  if (err instanceof TooManyAttempts) return { problem: problem(429, err.message, instance), headers: { 'retry-after': String(err.retryAfterSeconds) } };
  if (err instanceof AuthenticationFailed) return { problem: problem(401, err.message, instance), headers: {} };
  // PermissionDenied is a DomainError: it must be tested first.
  if (err instanceof PermissionDenied) return { problem: problem(403, err.message, instance), headers: {} };
  if (err instanceof NotFoundError) return { problem: problem(404, err.message, instance), headers: {} };
  if (err instanceof ConflictError) return { problem: problem(409, err.message, instance), headers: {} };
  if (err instanceof AdminError || err instanceof DomainError) return { problem: problem(400, err.message, instance), headers: {} };
  // fastify's own client errors (bad JSON, wrong content type, body too large) carry a 4xx status.
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) return { problem: problem(status, fe.message, instance), headers: {} };
  return { problem: problem(500, 'the server failed to answer: see its log', instance), headers: {} };
}

/** Sends a problem; a server error (500) is logged with its cause, client errors are not. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: unknown): FastifyReply {
  const { problem: body, headers } = problemFor(err, request.url);
  if (body.status >= 500) request.log.error({ err, method: request.method, url: request.url }, 'admin API request failed');
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
