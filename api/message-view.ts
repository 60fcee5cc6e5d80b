/** Loading one of the caller's messages, and its full view with attempts and events. */
import { listCallbackAttempts } from '../db/callbacks.ts';
import { listMessageEntries } from '../db/ledger.ts';
import { getMessageForAccount, listAttempts, listEvents } from '../db/messages.ts';
import type { Message } from '../db/schema.ts';
import { isMessageId } from '../domain/ids.ts';
import type { AppContext } from './context.ts';
import { notFound } from './errors.ts';
import { type MessageJson, toChargesJson, toMessageJson } from './serialize.ts';

/**
 * The account's message `id`.
 *
 * @throws ApiError 404 for a malformed, unknown or another account's id (never 403: DESIGN §7).
 */
export async function loadOwnMessage(ctx: AppContext, accountId: string, id: string): Promise<Message> {
  const message = isMessageId(id) ? await getMessageForAccount(ctx.db, accountId, id) : undefined;
  if (!message) throw notFound('message');
  return message;
}

/** The single-message view: the account's message with its attempts, events and callback attempts. */
export async function messageDetail(ctx: AppContext, accountId: string, id: string): Promise<MessageJson> {
  const message = await loadOwnMessage(ctx, accountId, id);
  const [attempts, events, callbacks, entries] = await Promise.all([
    listAttempts(ctx.db, id),
    listEvents(ctx.db, id),
    listCallbackAttempts(ctx.db, id),
    listMessageEntries(ctx.db, accountId, id),
  ]);
  return toMessageJson(message, attempts, events, callbacks, toChargesJson(entries));
}
