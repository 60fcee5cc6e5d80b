import { reserve, settle } from '../db/ledger.ts';
import { parseMoney } from '../domain/money.ts';
import type { ActivityDeps } from './deps.ts';
import type { ReserveFailoverInput } from './types.ts';

/**
 * A failover after a negative receipt sends the message a second time, and the first carrier has
 * already billed its submission; the message's own reservation (worst case over routes ×
 * segments) covers one submission, not two. So the second leg gets its own reservation, keyed
 * `<messageId>:failover` in the ledger (unique per key and kind, like every money move), and
 * settles separately: each carrier is charged what it billed, never more than was reserved.
 */
export const failoverLedgerKey = (messageId: string): string => `${messageId}:failover`;

export function createFailoverActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /** Reserves the second leg; false (no failover) when the account cannot pay for it. */
    async reserveFailover(input: ReserveFailoverInput): Promise<boolean> {
      const reserved = await reserve(db, {
        accountId: input.accountId,
        messageId: failoverLedgerKey(input.messageId),
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
    messageId: failoverLedgerKey(input.messageId),
    captureMicros: parseMoney(input.capture),
  });
}
