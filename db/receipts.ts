import type { Kysely } from 'kysely';
import type { Database, ReceiptRow } from './schema.ts';

/** Input of {@link insertReceipt}. */
export interface InsertReceiptInput {
  carrierId: string;
  carrierMessageId: string;
  /** Our message id when the receipt could be matched; null otherwise. */
  messageId: string | null;
  /** Normalized receipt status. */
  status: string;
  /** The carrier's own status text or code. */
  carrierStatus: string;
  errorCode: string | null;
  /** The receipt as received (body text), for audits. */
  raw: string;
}

/**
 * Stores a raw receipt once per (carrier, carrier message id, status): a carrier re-posting the
 * same receipt gets `inserted: false` and the caller can skip signalling the workflow again.
 */
export async function insertReceipt(
  db: Kysely<Database>,
  input: InsertReceiptInput,
): Promise<{ inserted: boolean }> {
  const row = await db
    .insertInto('receipts')
    .values({
      carrier_id: input.carrierId,
      carrier_message_id: input.carrierMessageId,
      message_id: input.messageId,
      status: input.status,
      carrier_status: input.carrierStatus,
      error_code: input.errorCode,
      raw: input.raw,
    })
    .onConflict((oc) => oc.columns(['carrier_id', 'carrier_message_id', 'status']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return { inserted: row !== undefined };
}

/** Receipts stored for a message, oldest first. */
export async function listReceipts(db: Kysely<Database>, messageId: string): Promise<ReceiptRow[]> {
  return db.selectFrom('receipts').selectAll().where('message_id', '=', messageId).orderBy('id').execute();
}
