import { FAILOVER_LEG, reserve, settle } from '../db/ledger.ts';
import { parseMoney } from '../domain/money.ts';
import type { ActivityDeps } from './deps.ts';
import type { ReserveFailoverInput } from './types.ts';

/**
 * A failover after a negative receipt sends the message a second time, and the first carrier has
 * already billed its submission; the message's own reservation (worst case over routes ×
 * segments) covers one submission, not two. So the second leg gets its own reservation, ledger
 * leg 2 of the same message (unique per message, leg and kind, like every money move), and
 * settles separately: each carrier is charged what it billed, never more than was reserved.
 */
export function createFailoverActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /** Reserves the second leg; false (no failover) when the account cannot pay for it. */
    async reserveFailover(input: ReserveFailoverInput): Promise<boolean> {
      const reserved = await reserve(db, {
        accountId: input.accountId,
        messageId: input.messageId,
        leg: FAILOVER_LEG,
        amountMicros: parseMoney(input.amount),
      });
      return reserved.ok;
    },
  };
}

/** Settles the second leg (idempotent; nothing happens when it was never reserved). */
export async function settleFailoverLeg(
  deps: ActivityDeps,
  input: { accountId: string; messageId: string; capture: string },
): Promise<{ capturedMicros: bigint; releasedMicros: bigint }> {
  return settle(deps.db, {
    accountId: input.accountId,
    messageId: input.messageId,
    leg: FAILOVER_LEG,
    captureMicros: parseMoney(input.capture),
  });
}
