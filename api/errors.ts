/**
 * The one error shape of the API (DESIGN §7): `{ "error": { "code", "message", "details"? } }`.
 * Routes throw {@link ApiError}; everything else that reaches {@link errorHandler} is mapped here,
 * so no stack trace and no 500 for bad input ever leaves the process.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isDatabaseUnavailable } from '../db/connection.ts';
import type { Logger } from './log.ts';

/** An error the client caused or must know about, with its HTTP status and snake_case code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** Seconds the client should wait before trying again (a `Retry-After` header); 503s always get one. */
  retryAfterSeconds: number | undefined;
}

/** 429: too soon; come back in `retryAfterMs` (rounded up to whole seconds in `Retry-After`). */
export function tooManyRequests(code: string, message: string, retryAfterMs: number): ApiError {
  const err = new ApiError(429, code, message);
  err.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return err;
}

/** The JSON body of an error answer. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

/** The body for an {@link ApiError}; `details` only when there are some. */
export function errorBody(err: ApiError): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  };
}

/** Shorthand for the 404 every unknown or foreign resource gets (never 403: DESIGN §7). */
export function notFound(what = 'resource'): ApiError {
  return new ApiError(404, 'not_found', `${what} not found`);
}

/** Temporal or another dependency could not be reached: the client may retry. `cause` is logged only. */
export function serviceUnavailable(message: string, cause?: unknown): ApiError {
  return new ApiError(503, 'service_unavailable', message, undefined, { cause });
}

/** Last route: nothing matched. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** Express error middleware writing {@link ErrorBody}; unexpected errors are logged and become 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const apiError = toApiError(err);
    if (apiError.status >= 500) {
      log('error', 'request failed', {
        method: req.method,
        path: req.path,
        status: apiError.status,
        error: describe(err),
        ...(err instanceof Error && err.cause !== undefined ? { cause: describe(err.cause) } : {}),
      });
    }
    // Every 503 says when to come back: clients (and carriers posting receipts) retry after it.
    if (apiError.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    if (apiError.retryAfterSeconds !== undefined)
      res.setHeader('Retry-After', String(apiError.retryAfterSeconds));
    res.status(apiError.status).json(errorBody(apiError));
  };
}

/** What a 503 asks the client to wait, seconds. */
export const RETRY_AFTER_SECONDS = 1;

/** Maps anything thrown to an ApiError; database outages become 503, unknown errors an opaque 500. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // The database restarting or its connections cut: the request will work again shortly.
  if (isDatabaseUnavailable(err))
    return serviceUnavailable('the database is unavailable; retry shortly', err);
  const http = httpErrorOf(err);
  if (http) {
    // body-parser's errors (http-errors) carry a status and say whether their text is safe to show.
    if (http.type === 'entity.parse.failed') {
      return new ApiError(400, 'invalid_request', 'request body is not valid JSON');
    }
    if (http.type === 'entity.too.large') {
      return new ApiError(413, 'payload_too_large', 'request body is too large');
    }
    if (http.status >= 400 && http.status < 500) {
      return new ApiError(http.status, 'invalid_request', http.expose ? http.message : 'bad request');
    }
  }
  return new ApiError(500, 'internal_error', 'internal error');
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

interface HttpErrorLike {
  readonly status: number;
  readonly message: string;
  readonly expose: boolean;
  readonly type?: string;
}

function httpErrorOf(err: unknown): HttpErrorLike | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { status?: unknown; statusCode?: unknown; expose?: unknown; type?: unknown };
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined) return undefined;
  return {
    status,
    message: e.message,
    expose: e.expose === true,
    ...(typeof e.type === 'string' ? { type: e.type } : {}),
  };
}
