/** `GET /v1/balance`: the caller's available and reserved balance. */
import { Router } from 'express';
import { getBalance } from '../../db/ledger.ts';
import { currentAccount, requireAccount } from '../auth.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { toBalanceJson } from '../serialize.ts';

export function balanceRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/v1/balance', requireAccount(ctx.db), async (_req, res) => {
    const balance = await getBalance(ctx.db, currentAccount(res).id);
    if (!balance) throw notFound('account');
    res.json(toBalanceJson(balance, ctx.currency));
  });

  return router;
}
