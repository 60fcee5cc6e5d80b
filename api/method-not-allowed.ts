/**
 * What a documented path allows, from the route table the OpenAPI document is built from (so the
 * two cannot disagree): `OPTIONS` answers 204 with `Allow`, and a method the path lacks answers 405
 * with `Allow` (RFC 9110 §15.5.6) instead of the catch-all 404. A literal path wins over a
 * parameter (`/v1/messages/quote` is not `/v1/messages/:id`).
 */
import type { RequestHandler } from 'express';
import { ApiError } from './errors.ts';
import { ROUTE_DOCS } from './openapi.ts';

interface PathMethods {
  readonly pattern: RegExp;
  readonly allow: string;
}

/** Each documented path as a regex (one segment per `:param`) with its methods, fewest parameters first. */
function documentedPaths(): PathMethods[] {
  const byPath = new Map<string, Set<string>>();
  for (const r of ROUTE_DOCS)
    byPath.set(r.path, (byPath.get(r.path) ?? new Set()).add(r.method.toUpperCase()));
  return [...byPath.entries()]
    .map(([path, methods]) => {
      if (methods.has('GET')) methods.add('HEAD');
      const source = path
        .split('/')
        .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      const params = path.split('/').filter((part) => part.startsWith(':')).length;
      return { params, pattern: new RegExp(`^${source}/?$`), allow: [...methods].sort().join(', ') };
    })
    .sort((a, b) => a.params - b.params)
    .map(({ pattern, allow }) => ({ pattern, allow }));
}

/** `OPTIONS` on a documented path: 204 with its `Allow`. Mounted before the routes. */
export function optionsHandler(): RequestHandler {
  const paths = documentedPaths();
  return (req, res, next) => {
    const known = req.method === 'OPTIONS' ? paths.find((p) => p.pattern.test(req.path)) : undefined;
    if (!known) {
      next();
      return;
    }
    res.setHeader('Allow', known.allow);
    res.status(204).end();
  };
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
