/** Messages: send, quote, read one, list, cancel (DESIGN §7). */
import { Router } from 'express';
import { InvalidCursorError, listMessages } from '../../db/messages.ts';
import { formatMoney } from '../../domain/money.ts';
import { normalizePhone } from '../../domain/phone.ts';
import { isTerminal } from '../../domain/status.ts';
import { acceptMessage, checkMessageInput, priceMessage } from '../accept-message.ts';
import { currentAccount, requireAccount } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { loadOwnMessage, messageDetail } from '../message-view.ts';
import { createMessageBody, idempotencyKeyHeader, listMessagesQuery, quoteMessageBody } from '../schemas.ts';
import { toMessageJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';
import { cancelMessageWorkflow } from '../workflow-client.ts';

export function messageRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = requireAccount(ctx.db);

  router.post('/v1/messages', auth, jsonBody, async (req, res) => {
    const body = parseInput(createMessageBody, req.body);
    const rawKey = req.get('idempotency-key');
    const key =
      rawKey === undefined ? undefined : parseInput(idempotencyKeyHeader, rawKey, 'Idempotency-Key header');
    const message = await acceptMessage(ctx, currentAccount(res), body, key);
    res.status(202).json(toMessageJson(message));
  });

  // What a send would cost, with the send path's own checks; reads only, changes nothing.
  // POST on two fixed segments, so neither GET /v1/messages/:id nor POST …/:id/cancel can take it.
  router.post('/v1/messages/quote', auth, jsonBody, async (req, res) => {
    const input = parseInput(quoteMessageBody, req.body);
    const { e164, country } = checkMessageInput(input);
    const pricing = await priceMessage(ctx, country, input.body);
    res.json({
      to: e164,
      country,
      encoding: pricing.encoding,
      segments: pricing.segments,
      units: pricing.units,
      price: { min: formatMoney(pricing.minMicros), max: formatMoney(pricing.maxMicros) },
      currency: ctx.currency,
      routes: pricing.routes,
    });
  });

  router.get('/v1/messages', auth, async (req, res) => {
    const query = parseInput(listMessagesQuery, req.query, 'query');
    const to = query.to === undefined ? undefined : normalizedFilter(query.to);
    try {
      const page = await listMessages(ctx.db, currentAccount(res).id, {
        limit: query.limit,
        ...(query.status ? { status: query.status } : {}),
        ...(query.priority ? { priority: query.priority } : {}),
        ...(to ? { to } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      res.json({ data: page.data.map((m) => toMessageJson(m)), nextCursor: page.nextCursor });
    } catch (err) {
      if (err instanceof InvalidCursorError) {
        throw new ApiError(400, 'invalid_request', 'query field "cursor" is invalid');
      }
      throw err;
    }
  });

  router.get('/v1/messages/:id', auth, async (req, res) => {
    res.json(await messageDetail(ctx, currentAccount(res).id, pathParam(req, 'id', 'message')));
  });

  // Only before any carrier saw the message; the workflow decides, synchronously (an Update).
  router.post('/v1/messages/:id/cancel', auth, async (req, res) => {
    const accountId = currentAccount(res).id;
    const message = await loadOwnMessage(ctx, accountId, pathParam(req, 'id', 'message'));
    const outcome = isTerminal(message.status)
      ? 'too_late'
      : await cancelMessageWorkflow(ctx.temporal, message);
    if (outcome !== 'canceled') throw new ApiError(409, 'invalid_state', 'message can no longer be canceled');
    res.json(await messageDetail(ctx, accountId, message.id));
  });

  return router;
}

/** The `to` filter in E.164, so `+1 (415) 555-0100` finds `+14155550100`. */
function normalizedFilter(to: string): string {
  const phone = normalizePhone(to);
  if (!phone.ok) throw new ApiError(400, 'invalid_request', `query field "to": ${phone.reason}`);
  return phone.e164;
}
