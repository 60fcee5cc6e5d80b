/**
 * The Twilio-compatible Messages API (DESIGN §11) under `/2010-04-01/Accounts/{AccountSid}/`:
 * create, fetch and list messages with Twilio's request, resource, paging and error shapes, so
 * Twilio's own SDKs work against Herald with a changed base URL. HTTP Basic auth with the pair
 * from `POST /v1/twilio-credentials`. A thin translation: sends go through the same accept path
 * as `POST /v1/messages` (every rule applies); only the shapes differ.
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import express, { Router } from 'express';
import { safeEqual } from '../../adapters/inbound.ts';
import { getAccount } from '../../db/accounts.ts';
import { findMessageForAccount, InvalidCursorError, listMessages } from '../../db/messages.ts';
import { findTwilioCredentials } from '../../db/twilio-credentials.ts';
import { messageIdsOfTwilioSid } from '../../domain/ids.ts';
import { normalizePhone, storedAddress } from '../../domain/phone.ts';
import { acceptMessage } from '../accept-message.ts';
import { currentAccount } from '../auth.ts';
import { MAX_BODY_BYTES } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { createMessageBody } from '../schemas.ts';
import { toTwilioMessage, twilioError, twilioMessagesPath } from '../twilio-resource.ts';

const ACCOUNT = '/2010-04-01/Accounts/:accountSid';
/** Twilio's largest ValidityPeriod, seconds. */
const MAX_VALIDITY = 36_000;
/** Herald pages hold at most 100 messages; a larger PageSize is answered with 100 and a next page. */
const MAX_PAGE = 100;
const DEFAULT_PAGE = 50;

const formBody = express.urlencoded({ extended: false, limit: MAX_BODY_BYTES, type: () => true });

/** An error only this API has: Twilio's own code (no Herald code maps to it). */
class TwilioApiError extends ApiError {
  constructor(
    status: number,
    readonly twilioCode: number,
    message: string,
  ) {
    super(status, 'invalid_request', message);
  }
}

function fail(status: number, code: number, message: string): TwilioApiError {
  return new TwilioApiError(status, code, message);
}

export function twilioMessageRoutes(ctx: AppContext): Router {
  const router = Router();

  /** Basic auth with the account's `AC…` alias and auth token; the path must name the same alias. */
  const auth: RequestHandler = async (req, res, next) => {
    const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(req.get('authorization') ?? '');
    const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const [sid, token] = colon < 0 ? ['', ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
    const creds = sid === '' ? undefined : await findTwilioCredentials(ctx.db, sid);
    if (!creds || !safeEqual(token, creds.auth_token)) {
      res.set('www-authenticate', 'Basic realm="Twilio API"');
      throw fail(401, 20003, 'Authenticate');
    }
    if (req.params.accountSid !== creds.account_sid) {
      throw fail(404, 20404, `The requested resource ${req.path} was not found`);
    }
    const account = await getAccount(ctx.db, creds.account_id);
    if (!account) throw fail(401, 20003, 'Authenticate');
    res.locals.account = account;
    res.locals.accountSid = creds.account_sid;
    next();
  };
  const accountSid = (res: express.Response): string => String(res.locals.accountSid);

  router.post(`${ACCOUNT}/Messages.json`, auth, formBody, async (req, res) => {
    const form = formFields(req);
    for (const unsupported of ['MessagingServiceSid', 'MediaUrl', 'ContentSid']) {
      if (form.has(unsupported)) throw fail(400, 20001, `${unsupported} is not supported by Herald`);
    }
    const to = form.get('To');
    const from = form.get('From');
    const body = form.get('Body');
    const callback = form.get('StatusCallback');
    const validity = form.get('ValidityPeriod');
    if (!to) throw fail(400, 21604, "A 'To' phone number is required.");
    if (!from) throw fail(400, 21603, "A 'From' phone number is required.");
    if (!body) throw fail(400, 21602, 'Message body is required.');
    if (!normalizePhone(to).ok) throw fail(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (
      validity !== undefined &&
      !(/^\d{1,5}$/.test(validity) && +validity >= 1 && +validity <= MAX_VALIDITY)
    ) {
      throw fail(400, 21624, 'Invalid validity period value');
    }
    const parsed = createMessageBody.safeParse({
      to,
      from,
      body,
      ...(callback === undefined ? {} : { callbackUrl: callback }),
      ...(validity === undefined ? {} : { validitySeconds: Number(validity) }),
    });
    if (!parsed.success) {
      const field = String(parsed.error.issues[0]?.path[0] ?? '');
      const [code, message] = FIELD_ERRORS[field] ?? [20001, parsed.error.issues[0]?.message ?? 'invalid'];
      throw fail(400, code, message);
    }
    const message = await acceptMessage(ctx, currentAccount(res), parsed.data, undefined, {
      apiFormat: 'twilio',
    });
    res.status(201).json(toTwilioMessage(message, accountSid(res), ctx.currency));
  });

  router.get(`${ACCOUNT}/Messages/:sid.json`, auth, async (req, res) => {
    const sid = String(req.params.sid);
    const message = await findMessageForAccount(ctx.db, currentAccount(res).id, messageIdsOfTwilioSid(sid));
    if (!message) throw fail(404, 20404, `The requested resource ${req.path} was not found`);
    res.json(toTwilioMessage(message, accountSid(res), ctx.currency));
  });

  router.get(`${ACCOUNT}/Messages.json`, auth, async (req, res) => {
    const query = new URL(req.originalUrl, 'http://placeholder.invalid').searchParams;
    const requested = query.get('PageSize');
    const pageSize = requested === null ? DEFAULT_PAGE : Number(requested);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw fail(400, 20001, 'PageSize must be an integer from 1 to 1000');
    }
    const page = Math.max(0, Math.trunc(Number(query.get('Page') ?? 0)) || 0);
    const limit = Math.min(pageSize, MAX_PAGE);
    const token = query.get('PageToken') ?? undefined;
    const to = query.get('To');
    const from = query.get('From');
    let result: Awaited<ReturnType<typeof listMessages>>;
    try {
      result = await listMessages(ctx.db, currentAccount(res).id, {
        limit,
        ...(token ? { cursor: token } : {}),
        ...(to === null ? {} : { to: storedAddress(to) }),
        ...(from === null ? {} : { from }),
      });
    } catch (err) {
      if (err instanceof InvalidCursorError) throw fail(400, 20001, 'PageToken is invalid');
      throw err;
    }
    const path = `${twilioMessagesPath(accountSid(res))}.json`;
    const filters: Array<[string, string]> = [
      ...(to === null ? [] : [['To', to] as [string, string]]),
      ...(from === null ? [] : [['From', from] as [string, string]]),
    ];
    const uri = (p: number, pageToken?: string) =>
      `${path}?${new URLSearchParams([
        ...filters,
        ['PageSize', String(limit)],
        ['Page', String(p)],
        ...(pageToken ? [['PageToken', pageToken] as [string, string]] : []),
      ]).toString()}`;
    const start = page * limit;
    res.json({
      messages: result.data.map((m) => toTwilioMessage(m, accountSid(res), ctx.currency)),
      uri: uri(page, token),
      first_page_uri: uri(0),
      next_page_uri: result.nextCursor === null ? null : uri(page + 1, result.nextCursor),
      previous_page_uri: page === 0 ? null : uri(0),
      page,
      page_size: limit,
      start,
      end: start + Math.max(result.data.length - 1, 0),
    });
  });

  // Every error under this prefix in Twilio's shape, so Twilio's SDKs raise their RestException.
  const twilioErrors: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof ApiError) {
      const { status, body } = twilioError(err);
      if (err.retryAfterSeconds !== undefined) res.set('retry-after', String(err.retryAfterSeconds));
      res.status(status).json(err instanceof TwilioApiError ? { ...body, code: err.twilioCode } : body);
      return;
    }
    next(err);
  };
  router.use('/2010-04-01', twilioErrors);
  return router;
}

/** The first value of each form field (Twilio's SDKs send each once). */
function formFields(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === 'string') out.set(k, value);
  }
  return out;
}

/** Twilio's code and message for a field Herald's own schema refused. */
const FIELD_ERRORS: Readonly<Record<string, readonly [number, string]>> = {
  to: [21211, "Invalid 'To' Phone Number"],
  from: [21212, "Invalid 'From' Phone Number"],
  body: [21617, 'The concatenated message body exceeds the 1600 character limit.'],
  callbackUrl: [21609, 'Invalid StatusCallback url'],
  validitySeconds: [21624, 'Invalid validity period value'],
};
