/** `GET /v1/inbound[/:id]` (DESIGN §11): the messages people sent to this account's numbers. */
import { Router } from 'express';
import { getInboundForAccount, InvalidCursorError, listInbound } from '../../db/inbound.ts';
import { storedAddress } from '../../domain/phone.ts';
import { currentAccount, requireAccount } from '../auth.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { listInboundQuery } from '../schemas.ts';
import { toInboundJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';

export function inboundRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = requireAccount(ctx.db);

  router.get('/v1/inbound', auth, async (req, res) => {
    const query = parseInput(listInboundQuery, req.query, 'query');
    const from = query.from === undefined ? undefined : storedAddress(query.from);
    const to = query.to === undefined ? undefined : storedAddress(query.to);
    try {
      const page = await listInbound(ctx.db, currentAccount(res).id, {
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
      });
      res.json({ data: page.data.map(toInboundJson), nextCursor: page.nextCursor });
    } catch (err) {
      if (err instanceof InvalidCursorError) {
        throw new ApiError(400, 'invalid_request', 'query field "cursor" is invalid');
      }
      throw err;
    }
  });

  router.get('/v1/inbound/:id', auth, async (req, res) => {
    const id = pathParam(req, 'id', 'inbound message');
    const message = await getInboundForAccount(ctx.db, currentAccount(res).id, id);
    if (!message) throw notFound('inbound message');
    res.json(toInboundJson(message));
  });

  return router;
}
