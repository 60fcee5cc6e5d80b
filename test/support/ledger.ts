import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { formatMoney } from '../../domain/money.ts';

/** A message's ledger entries with amounts as decimal strings, oldest first. */
export async function listEntriesForMessage(
  db: Kysely<Database>,
  messageId: string,
): Promise<Array<{ kind: string; amount: string }>> {
  const rows = await db
    .selectFrom('ledger_entries')
    .select(['kind', 'amount_micros'])
    .where('message_id', '=', messageId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ kind: r.kind, amount: formatMoney(BigInt(r.amount_micros)) }));
}
