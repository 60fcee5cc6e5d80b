import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Input of {@link recordMessageParts}. */
export interface RecordMessagePartsInput {
  readonly messageId: string;
  readonly carrierId: string;
  /** Every part's carrier id, in part order, normalized as the adapter reports them. */
  readonly partIds: readonly string[];
}

/**
 * Stores the carrier ids of a message's parts, so a receipt naming only a part is matched.
 * Idempotent: a part id already stored for the carrier is left as it is.
 */
export async function recordMessageParts(
  db: Kysely<Database>,
  input: RecordMessagePartsInput,
): Promise<void> {
  if (input.partIds.length === 0) return;
  await db
    .insertInto('message_parts')
    .values(
      input.partIds.map((id, i) => ({
        message_id: input.messageId,
        carrier_id: input.carrierId,
        part: i + 1,
        carrier_message_id: id,
      })),
    )
    .onConflict((oc) => oc.columns(['carrier_id', 'carrier_message_id']).doNothing())
    .execute();
}

/** Our message id for one part's carrier id, if stored. */
export async function findMessageIdByPartId(
  db: Kysely<Database>,
  carrierId: string,
  carrierMessageId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('message_parts')
    .select('message_id')
    .where('carrier_id', '=', carrierId)
    .where('carrier_message_id', '=', carrierMessageId)
    .executeTakeFirst();
  return row?.message_id;
}
