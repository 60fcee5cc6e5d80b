/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: its dependencies do). */
import { Router } from 'express';
import { sql } from 'kysely';
import type { AppContext } from '../context.ts';

/** How long a readiness probe waits for each dependency. */
const CHECK_TIMEOUT_MS = 2_000;

type CheckResult = 'ok' | 'failed';

export function healthRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const [database, temporal] = await Promise.all([
      check(ctx, 'database', () => sql`select 1`.execute(ctx.db)),
      check(ctx, 'temporal', () =>
        ctx.temporal.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          ctx.temporal.connection.workflowService.getSystemInfo({}),
        ),
      ),
    ]);
    const ready = database === 'ok' && temporal === 'ok';
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ok' : 'unavailable', checks: { database, temporal } });
  });

  return router;
}

async function check(ctx: AppContext, name: string, probe: () => Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch (err) {
    ctx.log('warn', 'readiness check failed', {
      check: name,
      error: err instanceof Error ? err.message : String(err),
    });
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}
