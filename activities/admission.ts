import { reserve } from '../db/ledger.ts';
import { transitionMessage } from '../db/messages.ts';
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
      const routes = planned.ranked.filter(onCarrier);
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
