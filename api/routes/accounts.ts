/** Admin calls: create an account, top one up (DESIGN §7). */
import { Router } from 'express';
import { addCredit, createAccount } from '../../db/accounts.ts';
import { requireAdmin } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { addCreditBody, createAccountBody } from '../schemas.ts';
import { accountBalance, toBalanceJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';

export function accountRoutes(ctx: AppContext): Router {
  const router = Router();
  const admin = requireAdmin(ctx.db, ctx.adminApiKey);

  // 201 { id, name, apiKey }: the key is shown this once; only its hash is stored.
  router.post('/v1/accounts', admin, jsonBody, async (req, res) => {
    const { name } = parseInput(createAccountBody, req.body);
    const { account, apiKey } = await createAccount(ctx.db, { name, currency: ctx.currency });
    res.status(201).json({ id: account.id, name: account.name, apiKey });
  });

  router.post('/v1/accounts/:id/credits', admin, jsonBody, async (req, res) => {
    const { amount, reference } = parseInput(addCreditBody, req.body);
    const id = pathParam(req, 'id', 'account');
    const account = await addCredit(ctx.db, {
      accountId: id,
      amountMicros: amount,
      ...(reference ? { reference } : {}),
    });
    if (!account) throw notFound('account');
    res.json(toBalanceJson(accountBalance(account), ctx.currency));
  });

  return router;
}
