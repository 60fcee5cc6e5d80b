/**
 * Signed status callbacks of one message (`cb-<messageId>`), fed by `callbackEventsSignal`
 * (signal-with-start after each status change). Delivers events one at a time in sequence order,
 * each with exponential backoff (1 s doubling, at most 1 h apart) for up to 24 h, then gives it up
 * and goes on. Completes once a final status has been handled and nothing is pending; a later
 * status (a late receipt) starts a fresh run, and already-delivered events are skipped by the
 * delivery activity. A 410 Gone from the receiver stops all callbacks of the message.
 */
import {
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index.ts';
import { isTerminal } from '../domain/status.ts';
import {
  type CallbackEvent,
  callbackEventsSignal,
  type DeliverCallbacksInput,
} from './callback-definitions.ts';
import { callbackActivityOptions } from './callback-retry.ts';

/** A run waiting this long without a final status ends (e.g. its message workflow was terminated). */
const IDLE_LIMIT = '7 days';

const local = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

export async function deliverCallbacks(input: DeliverCallbacksInput): Promise<void> {
  const pending = new Map<number, CallbackEvent>();
  let handledThrough = input.handledThrough ?? 0;
  // Every signal carries the whole history so far: keep only what is new.
  const take = (events: readonly CallbackEvent[]): void => {
    for (const e of events) {
      if (e.sequence > handledThrough && !pending.has(e.sequence)) pending.set(e.sequence, e);
    }
  };
  take(input.pending ?? []);
  setHandler(callbackEventsSignal, take);

  const settings = await local.callbackSettings();
  const { deliverCallback } = proxyActivities<HeraldActivities>(callbackActivityOptions(settings));

  for (;;) {
    if (!(await condition(() => pending.size > 0, IDLE_LIMIT))) return;
    const sequence = Math.min(...pending.keys());
    const event = pending.get(sequence);
    if (!event) continue;
    let gone = false;
    try {
      gone = (await deliverCallback(event)).outcome === 'gone';
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('status callback given up', { eventId: event.eventId, error: String(err) });
      await local.abandonCallback({ event, reason: 'not delivered within the retry window' });
    }
    pending.delete(sequence);
    handledThrough = Math.max(handledThrough, sequence);
    if (gone) return;
    if (isTerminal(event.status) && pending.size === 0) return;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof deliverCallbacks>({
        messageId: input.messageId,
        pending: [...pending.values()],
        handledThrough,
      });
    }
  }
}
