/** The retry schedule of every signed callback a workflow delivers (status callbacks, inbound forwarding). */
import type { ActivityOptions } from '@temporalio/workflow';
import type { CallbackSettings } from '../activities/callbacks.ts';

/** One attempt per request timeout (plus slack), doubling from `retryInitialMs`, given up after `giveUpAfterMs`. */
export function callbackActivityOptions(settings: CallbackSettings): ActivityOptions {
  return {
    startToCloseTimeout: settings.requestTimeoutMs + 5_000,
    scheduleToCloseTimeout: settings.giveUpAfterMs,
    retry: {
      initialInterval: settings.retryInitialMs,
      backoffCoefficient: 2,
      maximumInterval: settings.retryMaximumMs,
    },
  };
}
