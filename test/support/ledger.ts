import type { Kysely } from 'kysely';
import { FIRST_LEG } from '../../db/ledger.ts';
import type { Database, LedgerLeg } from '../../db/schema.ts';
import { formatMoney } from '../../domain/money.ts';

/** One leg's ledger entries of a message (default its first), amounts as decimal strings, oldest first. */
export async function listEntriesForMessage(
  db: Kysely<Database>,
  messageId: string,
  leg: LedgerLeg = FIRST_LEG,
): Promise<Array<{ kind: string; amount: string }>> {
  const rows = await db
    .selectFrom('ledger_entries')
    .select(['kind', 'amount_micros'])
    .where('message_id', '=', messageId)
    .where('leg', '=', leg)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ kind: r.kind, amount: formatMoney(BigInt(r.amount_micros)) }));
}
