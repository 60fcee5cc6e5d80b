/**
 * Carrier webhooks in each carrier's own format: `POST /webhooks/carriers/:carrierId` delivery
 * receipts (DESIGN §5); `POST|GET /webhooks/carriers/:carrierId/inbound` inbound messages
 * (DESIGN §11), authenticated the same way.
 */
import type { Request, Response } from 'express';
import { Router } from 'express';
import { checkInboundPart } from '../../adapters/inbound.ts';
import { type InboundHttp, type InboundPart, type Receipt, ReceiptParseError } from '../../adapters/types.ts';
import { InboundIntakeUnavailableError, ingestInbound } from '../../services/inbound-intake.ts';
import { rawTextBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound, serviceUnavailable } from '../errors.ts';
import { handleReceipts } from '../receipts.ts';
import { pathParam } from '../validate.ts';

export function webhookRoutes(ctx: AppContext): Router {
  const router = Router();
  const publicBase = ctx.publicBaseUrl?.replace(/\/+$/, '');

  router.post('/webhooks/carriers/:carrierId', rawTextBody, async (req, res) => {
    const carrierId = pathParam(req, 'carrierId', 'carrier');
    const adapter = await ctx.adapters.get(carrierId);
    if (!adapter) throw notFound('carrier');
    const inbound = toInbound(req, publicBase ?? `${req.protocol}://${req.get('host')}`);
    if (!adapter.verify(inbound)) throw new ApiError(403, 'forbidden', 'receipt signature is invalid');
    let receipts: Receipt[];
    try {
      receipts = adapter.parseReceipts(inbound);
    } catch (err) {
      if (err instanceof ReceiptParseError) throw new ApiError(400, 'invalid_request', err.message);
      throw err;
    }
    await handleReceipts(ctx, carrierId, receipts, inbound.rawBody);
    const ack = adapter.receiptAck;
    if (ack) res.status(ack.status).type(ack.contentType).send(ack.body);
    else res.status(200).type('text/plain').send('OK');
  });

  const inbound = async (req: Request, res: Response): Promise<void> => {
    const carrierId = pathParam(req, 'carrierId', 'carrier');
    const adapter = await ctx.adapters.get(carrierId);
    if (!adapter) throw notFound('carrier');
    if (!adapter.parseInbound) {
      throw new ApiError(404, 'not_found', `carrier ${carrierId} delivers no inbound messages over HTTP`);
    }
    const request = toInbound(req, publicBase ?? `${req.protocol}://${req.get('host')}`);
    if (!adapter.verify(request)) throw new ApiError(403, 'forbidden', 'webhook signature is invalid');
    let parts: InboundPart[];
    try {
      parts = adapter.parseInbound(request).map(checkInboundPart);
    } catch (err) {
      if (err instanceof ReceiptParseError) throw new ApiError(400, 'invalid_request', err.message);
      throw err;
    }
    try {
      await ingestInbound({ db: ctx.db, temporal: ctx.temporal, log: ctx.log }, carrierId, parts);
    } catch (err) {
      if (err instanceof InboundIntakeUnavailableError) throw serviceUnavailable(err.message, err.cause);
      throw err;
    }
    const ack = adapter.inboundAck ?? adapter.receiptAck;
    if (ack) res.status(ack.status).type(ack.contentType).send(ack.body);
    else res.status(200).type('text/plain').send('OK');
  };
  router.post('/webhooks/carriers/:carrierId/inbound', rawTextBody, inbound);
  router.get('/webhooks/carriers/:carrierId/inbound', inbound);

  return router;
}

/** The request as the adapter sees it: the public URL carriers signed, lower-cased headers, the raw body. */
function toInbound(req: Request, base: string): InboundHttp {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method: req.method,
    url: base + req.originalUrl,
    headers,
    rawBody: typeof req.body === 'string' ? req.body : '',
  };
}
