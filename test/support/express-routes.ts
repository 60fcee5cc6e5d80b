/**
 * Every route an Express 5 app serves, found by walking its router stack (nested routers
 * included, with their mount paths), so a test can compare them with the API reference.
 */
import type { Express } from 'express';

export interface ExpressRoute {
  /** Lower-case HTTP method. */
  readonly method: string;
  /** Express syntax: `/v1/messages/:id`. */
  readonly path: string;
}

interface Layer {
  readonly rawPath?: unknown;
  readonly route?: { readonly path: unknown; readonly methods: Record<string, boolean> };
  readonly handle?: { readonly stack?: readonly Layer[] };
}

/** The app's routes, sorted, without duplicates. */
export function listExpressRoutes(app: Express): ExpressRoute[] {
  const root = (app as unknown as { router?: { stack: readonly Layer[] } }).router;
  if (!root) throw new Error('not an Express 5 app: no app.router');
  const found = new Map<string, ExpressRoute>();
  const walk = (stack: readonly Layer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          if (typeof p !== 'string') throw new Error(`route path is not a string: ${String(p)}`);
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (!on || method === '_all') continue;
            const path = prefix + p;
            found.set(`${method} ${path}`, { method, path });
          }
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk(root.stack, '');
  return [...found.values()].sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}
