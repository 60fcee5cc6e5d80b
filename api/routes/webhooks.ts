/** `POST /webhooks/carriers/:carrierId`: delivery receipts in each carrier's own format (DESIGN §5). */
import type { Request } from 'express';
import { Router } from 'express';
import { type InboundHttp, type Receipt, ReceiptParseError } from '../../adapters/types.ts';
import { rawTextBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
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
