/**
 * An activity interceptor that measures every activity and logs it with its message id (the
 * context logger adds workflowId, activityType and attempt). Submits feed the submit-latency
 * histogram by carrier and outcome, and count a failover when a message's previous attempt went
 * to another carrier.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { WorkerMetrics } from './metrics.ts';

/** The fields of a submit's input and outcome this interceptor reads. */
interface SubmitArg {
  readonly messageId: string;
  readonly carrierId: string;
  readonly attempt: number;
}

/** Interceptor factory for `Worker.create({ interceptors: { activity: [...] } })`. */
export function activityTelemetry(metrics: WorkerMetrics, db: Kysely<Database>): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        const arg: unknown = input.args[0];
        const messageId = stringField(arg, 'messageId');
        const submit = activity === 'submitToCarrier' ? submitArg(arg) : undefined;
        // Only on Temporal's first try: a retry of the same attempt is not another failover.
        if (submit && submit.attempt > 1 && ctx.info.attempt === 1) {
          await countFailover(db, metrics, submit).catch((err: unknown) =>
            ctx.log.warn('failover metric: could not read the previous attempt', {
              messageId,
              error: String(err),
            }),
          );
        }
        const started = performance.now();
        const seconds = (): number => (performance.now() - started) / 1000;
        try {
          const result = await next(input);
          const elapsed = seconds();
          metrics.activityDuration.observe({ activity, result: 'ok' }, elapsed);
          if (submit) {
            const outcome = submitOutcome(result);
            metrics.submitDuration.observe({ carrier: submit.carrierId, outcome }, elapsed);
            ctx.log.info('submit finished', {
              messageId,
              carrierId: submit.carrierId,
              attempt: submit.attempt,
              outcome,
              ms: Math.round(elapsed * 1000),
            });
          } else {
            ctx.log.debug('activity finished', { messageId, ms: Math.round(elapsed * 1000) });
          }
          return result;
        } catch (err) {
          metrics.activityDuration.observe({ activity, result: 'error' }, seconds());
          ctx.log.warn('activity failed', {
            messageId,
            error: err instanceof Error ? err.message : String(err),
          });
          throw err;
        }
      },
    },
  });
}

async function countFailover(db: Kysely<Database>, metrics: WorkerMetrics, submit: SubmitArg): Promise<void> {
  const previous = await db
    .selectFrom('message_attempts')
    .select('carrier_id')
    .where('message_id', '=', submit.messageId)
    .where('attempt', '=', submit.attempt - 1)
    .executeTakeFirst();
  if (previous && previous.carrier_id !== submit.carrierId) {
    metrics.failovers.inc({ from: previous.carrier_id, to: submit.carrierId });
  }
}

/** `accepted`, or the error class of a refused submit (`retry`, `failover`, `permanent`, `ambiguous`). */
function submitOutcome(result: unknown): string {
  if (typeof result !== 'object' || result === null) return 'unknown';
  if ((result as { ok?: unknown }).ok === true) return 'accepted';
  const errorClass = stringField((result as { error?: unknown }).error, 'class');
  return errorClass ?? 'unknown';
}

function submitArg(arg: unknown): SubmitArg | undefined {
  const messageId = stringField(arg, 'messageId');
  const carrierId = stringField(arg, 'carrierId');
  const attempt = (arg as { attempt?: unknown } | undefined)?.attempt;
  if (!messageId || !carrierId || typeof attempt !== 'number') return undefined;
  return { messageId, carrierId, attempt };
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}
