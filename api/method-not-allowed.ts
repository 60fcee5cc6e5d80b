/**
 * 405 with `Allow` for a documented path asked with a method it does not have (RFC 9110 §15.5.6),
 * instead of the catch-all 404: derived from the route table the OpenAPI document is built from,
 * so the two cannot disagree. Runs after every route, before the 404 handler.
 */
import type { RequestHandler } from 'express';
import { ApiError } from './errors.ts';
import { ROUTE_DOCS } from './openapi.ts';

interface PathMethods {
  readonly pattern: RegExp;
  readonly allow: string;
}

/** Each documented path as a regex over one path segment per `:param`, with the methods it has. */
function documentedPaths(): PathMethods[] {
  const byPath = new Map<string, Set<string>>();
  for (const r of ROUTE_DOCS)
    byPath.set(r.path, (byPath.get(r.path) ?? new Set()).add(r.method.toUpperCase()));
  return [...byPath.entries()].map(([path, methods]) => {
    if (methods.has('GET')) methods.add('HEAD');
    const source = path
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    return { pattern: new RegExp(`^${source}/?$`), allow: [...methods].sort().join(', ') };
  });
}

export function methodNotAllowedHandler(): RequestHandler {
  const paths = documentedPaths();
  return (req, res, next) => {
    const known = paths.find((p) => p.pattern.test(req.path));
    if (!known) {
      next();
      return;
    }
    res.setHeader('Allow', known.allow);
    next(
      new ApiError(
        405,
        'method_not_allowed',
        `${req.method} is not allowed on ${req.path}; allowed: ${known.allow}`,
      ),
    );
  };
}
