/**
 * Carrier webhooks in each carrier's own format: `POST /webhooks/carriers/:carrierId` delivery
 * receipts (DESIGN §5); `POST|GET /webhooks/carriers/:carrierId/inbound` inbound messages
 * (DESIGN §11), authenticated the same way.
 */
import type { Request, Response } from 'express';
import { Router } from 'express';
import { checkInboundPart } from '../../adapters/inbound.ts';
import {
  type CarrierAdapter,
  type InboundHttp,
  ReceiptParseError,
  type WebhookAck,
} from '../../adapters/types.ts';
import { InboundIntakeUnavailableError, ingestInbound } from '../../services/inbound-intake.ts';
import { rawTextBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound, serviceUnavailable } from '../errors.ts';
import { handleReceipts } from '../receipts.ts';
import { pathParam } from '../validate.ts';

export function webhookRoutes(ctx: AppContext): Router {
  const router = Router();
  const publicBase = ctx.publicBaseUrl?.replace(/\/+$/, '');

  /** The carrier's adapter, or 404. */
  const adapterOf = async (req: Request): Promise<{ carrierId: string; adapter: CarrierAdapter }> => {
    const carrierId = pathParam(req, 'carrierId', 'carrier');
    const adapter = await ctx.adapters.get(carrierId);
    if (!adapter) throw notFound('carrier');
    return { carrierId, adapter };
  };
  /** The request as the carrier signed it (our public URL), its signature checked: else 403. */
  const signedRequest = (req: Request, adapter: CarrierAdapter, what: 'receipt' | 'webhook'): InboundHttp => {
    const request = toInbound(req, publicBase ?? `${req.protocol}://${req.get('host')}`);
    if (!adapter.verify(request)) throw new ApiError(403, 'forbidden', `${what} signature is invalid`);
    return request;
  };

  router.post('/webhooks/carriers/:carrierId', rawTextBody, async (req, res) => {
    const { carrierId, adapter } = await adapterOf(req);
    const request = signedRequest(req, adapter, 'receipt');
    const receipts = parsedOr400(() => adapter.parseReceipts(request));
    await handleReceipts(ctx, carrierId, receipts, request.rawBody);
    sendAck(res, adapter.receiptAck);
  });

  const inbound = async (req: Request, res: Response): Promise<void> => {
    const { carrierId, adapter } = await adapterOf(req);
    const parseInbound = adapter.parseInbound?.bind(adapter);
    if (!parseInbound) {
      throw new ApiError(404, 'not_found', `carrier ${carrierId} delivers no inbound messages over HTTP`);
    }
    const request = signedRequest(req, adapter, 'webhook');
    const parts = parsedOr400(() => parseInbound(request).map(checkInboundPart));
    try {
      await ingestInbound({ db: ctx.db, temporal: ctx.temporal, log: ctx.log }, carrierId, parts);
    } catch (err) {
      if (err instanceof InboundIntakeUnavailableError) throw serviceUnavailable(err.message, err.cause);
      throw err;
    }
    sendAck(res, adapter.inboundAck ?? adapter.receiptAck);
  };
  router.post('/webhooks/carriers/:carrierId/inbound', rawTextBody, inbound);
  router.get('/webhooks/carriers/:carrierId/inbound', inbound);

  return router;
}

/** What the adapter read from the body; a `ReceiptParseError` (an unreadable body) is a 400. */
function parsedOr400<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ReceiptParseError) throw new ApiError(400, 'invalid_request', err.message);
    throw err;
  }
}

/** The answer the carrier expects (its adapter's), else 200 `OK`. */
function sendAck(res: Response, ack: WebhookAck | undefined): void {
  if (ack) res.status(ack.status).type(ack.contentType).send(ack.body);
  else res.status(200).type('text/plain').send('OK');
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
