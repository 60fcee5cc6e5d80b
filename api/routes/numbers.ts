/** Senders (admin, DESIGN §11): assign a number or sender id to an account, list, release. */
import { Router } from 'express';
import { getAccount } from '../../db/accounts.ts';
import { getCarrier } from '../../db/carriers.ts';
import { assignNumber, listNumbers, releaseNumber } from '../../db/numbers.ts';
import { requireAdmin } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { assignNumberBody, listNumbersQuery } from '../schemas.ts';
import { toNumberJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';

export function numberRoutes(ctx: AppContext): Router {
  const router = Router();
  const admin = requireAdmin(ctx.db, ctx.adminApiKey);

  router.post('/v1/numbers', admin, jsonBody, async (req, res) => {
    const body = parseInput(assignNumberBody, req.body);
    if (!(await getAccount(ctx.db, body.accountId))) throw notFound('account');
    // Its messages will go out through that carrier only: it must exist.
    if (body.carrierId !== undefined && !(await getCarrier(ctx.db, body.carrierId)))
      throw notFound('carrier');
    const assigned = await assignNumber(ctx.db, {
      sender: body.sender,
      accountId: body.accountId,
      kind: body.sender.startsWith('+') ? 'number' : 'alphanumeric',
      carrierId: body.carrierId ?? null,
    });
    if (assigned.outcome === 'taken') {
      throw new ApiError(409, 'number_taken', 'this sender belongs to another account; release it first');
    }
    res.status(assigned.outcome === 'assigned' ? 201 : 200).json(toNumberJson(assigned.number));
  });

  router.get('/v1/numbers', admin, async (req, res) => {
    const query = parseInput(listNumbersQuery, req.query, 'query');
    res.json({ data: (await listNumbers(ctx.db, query.accountId)).map(toNumberJson) });
  });

  router.delete('/v1/numbers/:sender', admin, async (req, res) => {
    if (!(await releaseNumber(ctx.db, pathParam(req, 'sender', 'number')))) throw notFound('number');
    res.status(204).end();
  });

  return router;
}
