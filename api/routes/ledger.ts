/**
 * The ledger (DESIGN §4): `GET /v1/ledger` for the caller, `GET /v1/accounts/:id/ledger` and
 * `POST /v1/accounts/:id/refunds` for the admin. Entries come newest first with the running
 * balance after each, so a page can be checked against `GET /v1/balance`.
 */
import { Router } from 'express';
import type { Kysely } from 'kysely';
import { getAccount } from '../../db/accounts.ts';
import { InvalidCursorError, listLedger, refund } from '../../db/ledger.ts';
import { getMessageForAccount } from '../../db/messages.ts';
import type { Database } from '../../db/schema.ts';
import { formatMoney } from '../../domain/money.ts';
import { currentAccount, requireAccount, requireAdmin } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { listLedgerQuery, refundBody } from '../schemas.ts';
import { accountBalance, type LedgerEntryJson, toBalanceJson, toLedgerEntryJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';

export function ledgerRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/v1/ledger', requireAccount(ctx.db), async (req, res) => {
    res.json(await ledgerPage(ctx.db, currentAccount(res).id, req.query));
  });

  const admin = requireAdmin(ctx.db, ctx.adminApiKey);

  router.get('/v1/accounts/:id/ledger', admin, async (req, res) => {
    const account = await getAccount(ctx.db, pathParam(req, 'id', 'account'));
    if (!account) throw notFound('account');
    res.json(await ledgerPage(ctx.db, account.id, req.query));
  });

  // One refund per message, at most what it was charged; the same refund again answers as the first.
  router.post('/v1/accounts/:id/refunds', admin, jsonBody, async (req, res) => {
    const { messageId, amount } = parseInput(refundBody, req.body);
    const accountId = pathParam(req, 'id', 'account');
    const account = await getAccount(ctx.db, accountId);
    if (!account) throw notFound('account');
    // The path's account exists; the body names a message it does not have: 422, not 404.
    if (!(await getMessageForAccount(ctx.db, accountId, messageId))) {
      throw new ApiError(422, 'unknown_message', 'messageId: this account has no such message');
    }
    const result = await refund(ctx.db, { accountId, messageId, amountMicros: amount });
    if (!result.ok) {
      if (result.reason === 'account_not_found') throw notFound('account');
      if (result.reason === 'not_captured') {
        throw new ApiError(
          409,
          'invalid_state',
          'the message was not charged, so there is nothing to refund',
        );
      }
      throw new ApiError(400, 'refund_exceeds_charge', 'the refund is more than the message was charged');
    }
    if (result.alreadyDone && result.refundedMicros !== amount) {
      throw new ApiError(409, 'already_refunded', 'the message was refunded before, with another amount', {
        refunded: formatMoney(result.refundedMicros),
      });
    }
    const after = await getAccount(ctx.db, accountId);
    if (!after) throw notFound('account');
    res.json(toBalanceJson(accountBalance(after), ctx.currency));
  });

  return router;
}

/** One page of an account's ledger, for either caller. */
async function ledgerPage(
  db: Kysely<Database>,
  accountId: string,
  rawQuery: unknown,
): Promise<{ data: LedgerEntryJson[]; nextCursor: string | null }> {
  const query = parseInput(listLedgerQuery, rawQuery, 'query');
  try {
    const page = await listLedger(db, accountId, {
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return { data: page.data.map(toLedgerEntryJson), nextCursor: page.nextCursor };
  } catch (err) {
    if (err instanceof InvalidCursorError) {
      throw new ApiError(400, 'invalid_request', 'query field "cursor" is invalid');
    }
    throw err;
  }
}
