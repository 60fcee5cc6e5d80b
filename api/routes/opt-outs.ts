/** Opt-outs (DESIGN §11): the numbers this account may not send to; list, add, remove. */
import { Router } from 'express';
import { addOptOut, InvalidCursorError, listOptOuts, removeOptOut } from '../../db/opt-outs.ts';
import { normalizePhone } from '../../domain/phone.ts';
import { currentAccount, requireAccount } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { createOptOutBody, listOptOutsQuery } from '../schemas.ts';
import { toOptOutJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';

export function optOutRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = requireAccount(ctx.db);

  router.get('/v1/opt-outs', auth, async (req, res) => {
    const query = parseInput(listOptOutsQuery, req.query, 'query');
    try {
      const page = await listOptOuts(ctx.db, currentAccount(res).id, {
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      res.json({ data: page.data.map(toOptOutJson), nextCursor: page.nextCursor });
    } catch (err) {
      if (err instanceof InvalidCursorError) {
        throw new ApiError(400, 'invalid_request', 'query field "cursor" is invalid');
      }
      throw err;
    }
  });

  // 201 when new, 200 when the number was opted out already (the first record is kept).
  router.post('/v1/opt-outs', auth, jsonBody, async (req, res) => {
    const { number } = parseInput(createOptOutBody, req.body);
    const phone = normalizePhone(number);
    if (!phone.ok) throw new ApiError(400, 'invalid_phone_number', `number: ${phone.reason}`);
    const { created, optOut } = await addOptOut(ctx.db, {
      accountId: currentAccount(res).id,
      number: phone.e164,
      source: 'api',
    });
    res.status(created ? 201 : 200).json(toOptOutJson(optOut));
  });

  // The number receives this account's messages again.
  router.delete('/v1/opt-outs/:number', auth, async (req, res) => {
    const phone = normalizePhone(pathParam(req, 'number', 'opt-out'));
    if (!phone.ok || !(await removeOptOut(ctx.db, currentAccount(res).id, phone.e164)))
      throw notFound('opt-out');
    res.status(204).end();
  });

  return router;
}
