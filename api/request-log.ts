/** One log line per request: route pattern (never the query: it may hold a number), status, duration. */
import type { RequestHandler } from 'express';
import type { Logger } from './log.ts';

/** Probes and scrapes: logged at debug so they do not drown the rest. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Express middleware logging each finished request; the message id when the answer names one. */
export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let messageId: string | undefined;
    const json = res.json.bind(res);
    res.json = (body?: unknown) => {
      const id = (body as { id?: unknown } | null | undefined)?.id;
      if (typeof id === 'string' && id.startsWith('msg_')) messageId = id;
      return json(body);
    };
    res.once('finish', () => {
      const route: unknown = req.route?.path;
      log(QUIET_PATHS.has(req.path) ? 'debug' : 'info', 'request', {
        method: req.method,
        route: typeof route === 'string' ? req.baseUrl + route : undefined,
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        ...(messageId ? { messageId } : {}),
      });
    });
    next();
  };
}
