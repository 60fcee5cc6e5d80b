/**
 * zod parsing for request input: a failure becomes 400 `invalid_request` naming every bad field
 * (`details: [{ field, message }]`), the first one in the message.
 */
import type { Request } from 'express';
import type { z } from 'zod';
import { ApiError, notFound } from './errors.ts';

/** One problem with the input. `field` is a dotted path (`amount`, `messages.0.to`), `''` for the whole. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * Parses `input` with `schema` or throws a 400 ApiError.
 *
 * @param where - what was parsed, for the message: `body` (default), `query`, a header name.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.flatMap(toFieldIssues);
  const first = details[0];
  const message = first
    ? `${first.field === '' ? where : `${where} field "${first.field}"`}: ${first.message}`
    : `invalid ${where}`;
  throw new ApiError(400, 'invalid_request', message, details);
}

function toFieldIssues(issue: z.core.$ZodIssue): FieldIssue[] {
  const base = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      field: base === '' ? key : `${base}.${key}`,
      message: 'unknown field',
    }));
  }
  return [{ field: base, message: issue.message }];
}

/**
 * A named path parameter. Missing or repeated (a wildcard's array) cannot name a resource.
 *
 * @throws ApiError 404 naming `what`.
 */
export function pathParam(req: Request, name: string, what: string): string {
  const value = req.params[name];
  // No stored id holds U+0000, and PostgreSQL text cannot even compare one: not found.
  if (typeof value !== 'string' || value.includes('\u0000')) throw notFound(what);
  return value;
}
