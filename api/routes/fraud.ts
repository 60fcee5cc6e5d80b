/** The verification fraud guard's admin side (DESIGN §10): blocks, and each account's geo permissions. */
import { Router } from 'express';
import { getAccount } from '../../db/accounts.ts';
import { allowedCountries, liftFraudBlock, listFraudBlocks, setAllowedCountries } from '../../db/fraud.ts';
import { requireAdmin } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { listFraudBlocksQuery, verificationSettingsBody } from '../schemas.ts';
import { toFraudBlockJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';

export function fraudRoutes(ctx: AppContext): Router {
  const router = Router();
  const admin = requireAdmin(ctx.db, ctx.adminApiKey);

  router.get('/v1/fraud/blocks', admin, async (req, res) => {
    const query = parseInput(listFraudBlocksQuery, req.query, 'query');
    const blocks = await listFraudBlocks(ctx.db, query.includeLifted === 'true');
    res.json({ data: blocks.map(toFraudBlockJson) });
  });

  // Lifting a prefix's block also restarts its velocity count: an admin has judged the traffic.
  router.delete('/v1/fraud/blocks/:id', admin, async (req, res) => {
    const lifted = await liftFraudBlock(ctx.db, pathParam(req, 'id', 'block'));
    if (!lifted) throw notFound('block');
    res.json(toFraudBlockJson(lifted));
  });

  router.get('/v1/accounts/:id/verification-settings', admin, async (req, res) => {
    const account = await getAccount(ctx.db, pathParam(req, 'id', 'account'));
    if (!account) throw notFound('account');
    res.json({ allowedCountries: await allowedCountries(ctx.db, account.id) });
  });

  router.put('/v1/accounts/:id/verification-settings', admin, jsonBody, async (req, res) => {
    const body = parseInput(verificationSettingsBody, req.body);
    const account = await getAccount(ctx.db, pathParam(req, 'id', 'account'));
    if (!account) throw notFound('account');
    const countries = [...new Set(body.allowedCountries)].sort();
    await setAllowedCountries(ctx.db, account.id, countries);
    res.json({ allowedCountries: countries });
  });

  return router;
}
