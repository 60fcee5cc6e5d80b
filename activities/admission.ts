import { reserve } from '../db/ledger.ts';
import { listAttempts, transitionMessage } from '../db/messages.ts';
import { senderCarrier } from '../db/numbers.ts';
import { formatMoney } from '../domain/money.ts';
import { worstCaseQuote } from '../domain/routing.ts';
import { DEFAULT_SENDER } from '../domain/senders.ts';
import { afterTransition } from './callbacks.ts';
import type { ActivityDeps } from './deps.ts';
import { planRoutes, routingSettings } from './route-planning.ts';
import type { AdmitInput, AdmitResult } from './types.ts';

/**
 * Queue the message, rank its routes and reserve the worst case over them, so a failover can
 * never overdraw. Idempotent: the reservation is keyed by message id and the status move is a
 * no-op the second time.
 */
export function createAdmissionActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async admitMessage(input: AdmitInput): Promise<AdmitResult> {
      // Forward only: a re-run after a crash (the workflow task that admitted and submitted was lost
      // with its worker) must not move a message a carrier may hold back to `queued`.
      const queued = await transitionMessage(db, input.messageId, 'queued', {}, undefined, {
        onlyFrom: ['accepted', 'scheduled'],
      });
      await afterTransition(deps, queued.message, { mustSucceed: false });
      const planned = await planRoutes(deps, input.country);
      // A sender provisioned on one carrier goes out through that carrier only (DESIGN §11).
      const message = queued.message;
      const pinned =
        message && message.from_sender !== DEFAULT_SENDER
          ? await senderCarrier(db, message.account_id, message.from_sender)
          : undefined;
      const onCarrier = (r: { readonly carrierId: string }) => pinned === undefined || r.carrierId === pinned;
      const ranked = planned.ranked.filter(onCarrier);
      // Not the first admission (`queued` did not move): a worker died in the workflow task that
      // admitted and submitted, and this re-runs it. Its submits may have reached a carrier (their
      // attempt rows say which); the re-run submits answer from those rows, so the routes must come
      // in the same order, whatever the live score or the exploration dice say now.
      const routes = queued.changed ? ranked : triedFirst(ranked, await listAttempts(db, input.messageId));
      const all = planned.all.filter(onCarrier);
      if (routes.length === 0) return { outcome: 'no_route' };
      // Over every eligible route, open circuits included: the worst case whatever happens.
      const quote = worstCaseQuote(all, input.segments);
      const reserved = await reserve(db, {
        accountId: input.accountId,
        messageId: input.messageId,
        amountMicros: quote,
      });
      if (!reserved.ok) return { outcome: 'insufficient_funds' };
      const { carrierQueueTimeoutMs } = routingSettings(deps);
      return {
        outcome: 'reserved',
        quote: formatMoney(quote),
        routes: routes.map((r) => ({
          carrierId: r.carrierId,
          kind: r.kind,
          price: formatMoney(r.priceMicros),
          circuit: r.circuit,
          ...(r.probe ? { probe: true } : {}),
          ...(r.failoverReceiptCodes.length > 0 ? { failoverReceiptCodes: r.failoverReceiptCodes } : {}),
          queueTimeoutMs: carrierQueueTimeoutMs,
        })),
      };
    },
  };
}

/** The routes with the carriers already tried first, in the order they were tried. */
export function triedFirst<R extends { readonly carrierId: string }>(
  routes: readonly R[],
  attempts: readonly { readonly carrier_id: string; readonly attempt: number }[],
): R[] {
  const order = [...new Set([...attempts].sort((a, b) => a.attempt - b.attempt).map((a) => a.carrier_id))];
  const rank = (r: R): number => {
    const i = order.indexOf(r.carrierId);
    return i < 0 ? order.length : i;
  };
  // Array.prototype.sort is stable: untried routes keep their ranking.
  return [...routes].sort((a, b) => rank(a) - rank(b));
}
