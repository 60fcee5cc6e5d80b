/**
 * Messages a workflow sends for an account on its own initiative — a verification's code, an
 * inbound keyword's reply — stored the way the API stores a send (DESIGN §3: quoted at the worst
 * case over the country's routes, `accepted`), in the `high` lane, then started by the workflow as
 * a child `sendMessage` run (workflows/start-message-run.ts).
 */
import type { Kysely } from 'kysely';
import { listRouteCandidates } from '../db/carriers.ts';
import { insertMessage } from '../db/messages.ts';
import type { Database } from '../db/schema.ts';
import { worstCaseQuote } from '../domain/routing.ts';
import { analyzeBody } from '../domain/segments.ts';
import { workflowDetails, workflowInput, workflowSummary } from '../services/message-workflow.ts';
import type { PreparedMessageRun } from '../workflows/start-message-run.ts';

export interface OwnedMessage {
  /** Derived from what it answers, so a retried activity stores (and finds) the same message. */
  readonly id: string;
  readonly accountId: string;
  readonly requestHash: string;
  /** E.164, with its country. */
  readonly to: string;
  readonly country: string;
  readonly from: string;
  readonly body: string;
  readonly validitySeconds: number;
  /** The verification that sends it (its workflow owns the message). */
  readonly verificationId?: string;
}

/**
 * Stores the message (the same id again answers the stored row) and answers its run's start
 * (what a workflow needs: ids, run input, summaries — never the row, which holds the number).
 *
 * @returns undefined when no carrier serves the country (nothing stored).
 */
export async function storeOwnedMessage(
  db: Kysely<Database>,
  m: OwnedMessage,
): Promise<PreparedMessageRun | undefined> {
  const { encoding, segments } = analyzeBody(m.body);
  const candidates = await listRouteCandidates(db, m.country);
  if (candidates.length === 0) return undefined;
  const { message } = await insertMessage(db, {
    id: m.id,
    account_id: m.accountId,
    idempotency_key: null,
    request_hash: m.requestHash,
    to_number: m.to,
    from_sender: m.from,
    body: m.body,
    country: m.country,
    encoding,
    segments,
    quote_micros: worstCaseQuote(candidates, segments),
    status: 'accepted',
    validity_seconds: m.validitySeconds,
    priority: 'high',
    callback_url: null,
    ...(m.verificationId === undefined ? {} : { verification_id: m.verificationId }),
  });
  return {
    messageId: message.id,
    input: workflowInput(message),
    summary: workflowSummary(message),
    details: workflowDetails(message),
  };
}
