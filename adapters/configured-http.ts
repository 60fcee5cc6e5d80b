/**
 * HTTP carriers described by configuration (kind `http-config`): endpoint, auth, a JSON / form /
 * XML body template, where the message id and status sit in the reply and what its codes mean,
 * how receipts are read, matched and authenticated. An operator adds an ordinary HTTP carrier by
 * writing a definition (validated by `configuredCarrierSchema`), not code. Nothing in this module
 * knows any particular carrier.
 */
import { z } from 'zod';
import type { CarrierErrorClass } from '../domain/carrier-error.ts';
import { parseDecimalMicros } from './decimal.ts';
import {
  basicAuth,
  carrierError,
  carrierUrl,
  classifyHttpStatus,
  formEncode,
  type HttpReply,
  httpCall,
  httpCarrierConfigSchema,
  parseRetryAfter,
  unreadableReply,
} from './http.ts';
import { inboundAddress, mediaType, messageIdFromUrl, parseUrl } from './inbound.ts';
import { isValidPath, itemsAt, type PayloadFormat, parsePayload, parseXmlSafe, scalarAt } from './payload.ts';
import {
  badPlaceholder,
  escapeXml,
  placeholdersIn,
  placeholderValues,
  renderJson,
  renderText,
  stringsIn,
} from './template.ts';
import {
  type CarrierAdapter,
  type InboundHttp,
  type InboundPart,
  type Receipt,
  ReceiptParseError,
  type ReceiptStatus,
  type SubmitRequest,
  type SubmitResult,
} from './types.ts';
import { verifyHmacSignature, verifySharedSecret } from './webhook-auth.ts';

const path = z.string().min(1).refine(isValidPath, 'not a path like a.b[0].c');
const codeList = z.array(z.string().min(1)).default([]);
const errorClass = z.enum(['retry', 'failover', 'permanent']);
const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, 'not an HTTP header name');
const receiptStatus = z.enum(['enroute', 'delivered', 'undelivered', 'expired', 'failed']);

/** How we authenticate to the carrier. */
const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }),
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.strictObject({ type: z.literal('header'), name: headerName, value: z.string().min(1) }),
  z.strictObject({ type: z.literal('query'), name: z.string().min(1), value: z.string().min(1) }),
]);

const requestSchema = z.strictObject({
  /** Appended to `baseUrl`, e.g. `/sms/xml`. Default ''. */
  path: z.string().default(''),
  /** Default POST. With GET the (form) fields travel in the query string. */
  method: z.enum(['POST', 'GET']).default('POST'),
  format: z.enum(['json', 'form', 'xml']),
  /** xml: a string; form: field → text; json: any JSON value. Placeholders: see adapters/template.ts. */
  template: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
  /** Extra static headers. */
  headers: z.record(headerName, z.string()).default({}),
});

const replySchema = z.strictObject({
  format: z.enum(['json', 'xml']),
  /** Where the carrier's message id sits. */
  messageIdPath: path,
  /** Where the carrier's status / error code sits; absent → any 2xx with a message id is accepted. */
  statusPath: path.optional(),
  errorTextPath: path.optional(),
  /** Number of parts billed (a count, or an attribute such as `messages.@_count`). */
  segmentsPath: path.optional(),
  /** A decimal price (never read through a float). */
  pricePath: path.optional(),
  /** Whether `pricePath` is for the whole message or for one part. Default message. */
  priceUnit: z.enum(['message', 'segment']).default('message'),
  /** Carrier codes by meaning. A code in none of the lists gets `unknownCode`. */
  codes: z
    .strictObject({
      accepted: codeList,
      retry: codeList,
      failover: codeList,
      permanent: codeList,
    })
    .default({ accepted: [], retry: [], failover: [], permanent: [] }),
  /** Our snake_case code per carrier code (`"1": "throttled"`); default by class. */
  codeNames: z.record(z.string(), z.string().regex(/^[a-z][a-z0-9_]*$/)).default({}),
  /** Class of a code found in no list. Default failover. */
  unknownCode: errorClass.default('failover'),
  /** Wait before a retry-class code is retried when the reply has no Retry-After, ms. */
  retryAfterMs: z.number().int().positive().optional(),
  /** Overrides of the HTTP status defaults (5xx and 429 retry, 401/403 failover, other 4xx permanent). */
  httpStatus: z.record(z.string().regex(/^[1-5]\d\d$/, 'not an HTTP status'), errorClass).default({}),
});

const receiptAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('shared-secret'), header: headerName, secret: z.string().min(16) }),
  z.strictObject({
    type: z.literal('hmac-sha256'),
    header: headerName,
    secret: z.string().min(16),
    /** Default hex. */
    encoding: z.enum(['hex', 'base64']).default('hex'),
    /** Text before the signature, e.g. `sha256=`. Default ''. */
    prefix: z.string().default(''),
  }),
]);

const ackSchema = z.strictObject({
  status: z.number().int().min(200).max(299),
  contentType: z.string().min(1),
  body: z.string(),
});

const receiptsSchema = z.strictObject({
  /** form also covers receipts sent as GET query parameters. */
  format: z.enum(['json', 'form', 'xml']),
  /** Where a list of receipts sits when one post carries several; the paths below are then per item. */
  itemsPath: path.optional(),
  carrierMessageIdPath: path,
  /** Our message id, when the carrier echoes it; else the callback URL's `mid` is used. */
  messageIdPath: path.optional(),
  statusPath: path,
  errorCodePath: path.optional(),
  errorTextPath: path.optional(),
  /** Error codes that mean "no error" (left out of the receipt). Default ["0"]. */
  noErrorCodes: z.array(z.string()).default(['0']),
  /** Carrier status word (case-insensitive) → our status; unknown words are `enroute`. */
  statuses: z
    .record(z.string().min(1), receiptStatus)
    .refine((m) => Object.keys(m).length > 0, 'must map at least one status'),
  auth: receiptAuthSchema.default({ type: 'none' }),
  /** Our answer to a receipt. Default 200 text/plain "OK". */
  ack: ackSchema.default({ status: 200, contentType: 'text/plain', body: 'OK' }),
});

/** Inbound (mobile-originated) messages, posted to `/webhooks/carriers/<id>/inbound`; authenticated as receipts are. */
const inboundSchema = z.strictObject({
  /** form also covers messages sent as GET query parameters. */
  format: z.enum(['json', 'form', 'xml']),
  /** Where a list of messages sits when one post carries several; the paths below are then per item. */
  itemsPath: path.optional(),
  carrierMessageIdPath: path,
  fromPath: path,
  toPath: path,
  textPath: path,
  /** Where a part of a concatenated message says which it is; absent: the carrier reassembles. */
  concat: z.strictObject({ refPath: path, totalPath: path, partPath: path }).optional(),
  /** Our answer. Default 200 text/plain "OK". */
  ack: ackSchema.default({ status: 200, contentType: 'text/plain', body: 'OK' }),
});

/**
 * A configured HTTP carrier. Every object is strict, so a misspelt field is an error naming it.
 */
export const configuredCarrierSchema = z
  .strictObject({
    /** Human-readable name (for operators). */
    name: z.string().optional(),
    description: z.string().optional(),
    // `baseUrl` (the carrier's API origin, e.g. `https://api.example.com`) and `timeoutMs`.
    ...httpCarrierConfigSchema.shape,
    /** Values for `{{var.<name>}}` placeholders (account ids, fixed options). */
    variables: z.record(z.string().regex(/^\w+$/), z.string()).default({}),
    auth: authSchema.default({ type: 'none' }),
    request: requestSchema,
    reply: replySchema,
    receipts: receiptsSchema,
    /** Absent: the carrier delivers no inbound messages. */
    inbound: inboundSchema.optional(),
  })
  .superRefine((def, ctx) => {
    const { format, template } = def.request;
    const at = ['request', 'template'];
    if (format === 'xml' && typeof template !== 'string') {
      ctx.addIssue({ code: 'custom', path: at, message: 'an xml template must be a string' });
    }
    if (format === 'form') {
      const ok =
        typeof template === 'object' &&
        !Array.isArray(template) &&
        Object.values(template).every((v) => typeof v === 'string');
      if (!ok)
        ctx.addIssue({ code: 'custom', path: at, message: 'a form template maps field names to strings' });
    }
    if (format === 'json' && typeof template === 'string') {
      ctx.addIssue({ code: 'custom', path: at, message: 'a json template must be an object or array' });
    }
    let placeholdersOk = true;
    for (const text of stringsIn(template)) {
      for (const name of placeholdersIn(text)) {
        const why = badPlaceholder(name, def.variables);
        if (why) ctx.addIssue({ code: 'custom', path: at, message: why });
        if (why) placeholdersOk = false;
      }
    }
    if (format === 'xml' && typeof template === 'string' && placeholdersOk) {
      const sample = renderText(template, placeholderValues(SAMPLE_REQUEST, def.variables), escapeXml);
      if (parseXmlSafe(sample) === undefined) {
        ctx.addIssue({ code: 'custom', path: at, message: 'the xml template is not well-formed XML' });
      }
    }
    const listed = new Map<string, string>();
    for (const cls of ['accepted', 'retry', 'failover', 'permanent'] as const) {
      for (const code of def.reply.codes[cls]) {
        const before = listed.get(code);
        if (before) {
          ctx.addIssue({
            code: 'custom',
            path: ['reply', 'codes', cls],
            message: `code "${code}" is already listed under ${before}`,
          });
        }
        listed.set(code, cls);
      }
    }
  });

/** A definition as written (defaults not yet applied). */
export type ConfiguredCarrier = z.input<typeof configuredCarrierSchema>;
type Definition = z.output<typeof configuredCarrierSchema>;

/** Used to check that an XML template stays well-formed whatever the values. */
const SAMPLE_REQUEST: SubmitRequest = {
  messageId: 'msg_sample',
  to: '+14155550100',
  from: 'Herald',
  body: `<&>"' sample`,
  encoding: 'GSM-7',
  segments: 1,
  validitySeconds: 3600,
  statusCallbackUrl: 'https://herald.example/webhooks/carriers/x?mid=msg_sample&a=b',
};

const CONTENT_TYPES: Readonly<Record<PayloadFormat, string>> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  xml: 'application/xml; charset=utf-8',
};

/** Media types accepted for a receipt format ('' = none given: we try to parse). */
const RECEIPT_TYPES: Readonly<Record<PayloadFormat, readonly string[]>> = {
  json: ['application/json'],
  form: ['application/x-www-form-urlencoded'],
  xml: ['application/xml', 'text/xml'],
};

/** Builds the adapter for a definition (parsed with `configuredCarrierSchema`; throws on a bad one). */
export function createConfiguredHttpAdapter(definition: ConfiguredCarrier): CarrierAdapter {
  const def = configuredCarrierSchema.parse(definition);
  const label = def.name ?? 'carrier';
  return {
    kind: 'http-config',
    async submit(req: SubmitRequest): Promise<SubmitResult> {
      const { url, init } = buildRequest(def, req);
      const out = await httpCall(url, { ...init, timeoutMs: def.timeoutMs });
      return out.ok ? interpretConfiguredReply(def, out.reply, label) : out;
    },
    parseReceipts: (req) => parseConfiguredReceipts(def, req),
    verify: (req) => verifyConfiguredReceipt(def, req),
    receiptAck: def.receipts.ack,
    ...(def.inbound
      ? { parseInbound: (req: InboundHttp) => parseConfiguredInbound(def, req), inboundAck: def.inbound.ack }
      : {}),
  };
}

/** The HTTP request for one message: URL (with query auth / GET fields), method, headers, body. */
function buildRequest(
  def: Definition,
  req: SubmitRequest,
): { url: string; init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string } } {
  const r = def.request;
  const values = placeholderValues(req, def.variables);
  const url = new URL(carrierUrl(def.baseUrl, r.path));
  const headers: Record<string, string> = { accept: '*/*', ...lower(r.headers) };
  const auth = def.auth;
  if (auth.type === 'basic') headers.authorization = basicAuth(auth.username, auth.password);
  if (auth.type === 'bearer') headers.authorization = `Bearer ${auth.token}`;
  if (auth.type === 'header') headers[auth.name.toLowerCase()] = auth.value;
  if (auth.type === 'query') url.searchParams.set(auth.name, auth.value);
  let body: string;
  if (r.format === 'xml') body = renderText(r.template as string, values, escapeXml);
  else if (r.format === 'form') {
    const fields = Object.fromEntries(
      Object.entries(r.template as Record<string, string>).map(([k, v]) => [
        renderText(k, values),
        renderText(v, values),
      ]),
    );
    body = formEncode(fields);
  } else body = JSON.stringify(renderJson(r.template, values));
  if (r.method === 'GET') {
    if (r.format === 'form') for (const [k, v] of new URLSearchParams(body)) url.searchParams.append(k, v);
    return { url: url.toString(), init: { method: 'GET', headers } };
  }
  headers['content-type'] ??= CONTENT_TYPES[r.format];
  return { url: url.toString(), init: { method: 'POST', headers, body } };
}

function lower(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * A reply → `SubmitResult`. A code in the reply body decides when the definition lists it (even
 * on a non-2xx reply); otherwise a 2xx needs a message id (else `ambiguous`) and any other status
 * falls back on the HTTP defaults.
 */
export function interpretConfiguredReply(def: Definition, reply: HttpReply, label = 'carrier'): SubmitResult {
  const rd = def.reply;
  const two = reply.status >= 200 && reply.status < 300;
  const doc = parsePayload(reply.text, rd.format);
  const code = doc !== undefined && rd.statusPath ? scalarAt(doc, rd.statusPath) : undefined;
  const text = doc !== undefined && rd.errorTextPath ? scalarAt(doc, rd.errorTextPath) : undefined;
  const retryAfter = parseRetryAfter(reply.headers.get('retry-after'));
  const cls = code !== undefined ? classOf(rd.codes, code) : undefined;

  if (cls !== undefined && cls !== 'accepted') {
    const name = rd.codeNames[code as string] ?? DEFAULT_NAMES[cls];
    const retryAfterMs = cls === 'retry' ? (retryAfter ?? rd.retryAfterMs) : undefined;
    return {
      ok: false,
      error: carrierError(cls, name, text ?? `${label} code ${code}`, { carrierCode: code, retryAfterMs }),
    };
  }
  if (!two) {
    const byStatus = httpStatusError(rd, reply.status, retryAfter);
    return {
      ok: false,
      error: {
        ...byStatus,
        ...(text ? { message: text } : {}),
        ...(code !== undefined ? { carrierCode: code } : {}),
      },
    };
  }
  if (doc === undefined)
    return { ok: false, error: unreadableReply(reply.status, label, `not ${rd.format}`) };
  if (code !== undefined && cls === undefined && rd.codes.accepted.length > 0) {
    const name = rd.codeNames[code] ?? DEFAULT_NAMES[rd.unknownCode];
    return {
      ok: false,
      error: carrierError(rd.unknownCode, name, text ?? `${label} code ${code}`, { carrierCode: code }),
    };
  }
  const carrierMessageId = scalarAt(doc, rd.messageIdPath);
  if (!carrierMessageId) {
    return { ok: false, error: unreadableReply(reply.status, label, `no value at ${rd.messageIdPath}`) };
  }
  const segmentsText = rd.segmentsPath ? scalarAt(doc, rd.segmentsPath) : undefined;
  const segments = segmentsText && /^\d+$/.test(segmentsText) ? Number(segmentsText) : undefined;
  const priceText = rd.pricePath ? scalarAt(doc, rd.pricePath) : undefined;
  let price = priceText !== undefined ? parseDecimalMicros(priceText) : undefined;
  if (price !== undefined && price < 0n) price = -price;
  if (price !== undefined && rd.priceUnit === 'segment') price *= BigInt(segments ?? 1);
  return {
    ok: true,
    carrierMessageId,
    ...(segments !== undefined && segments > 0 ? { segments } : {}),
    ...(price !== undefined ? { priceMicros: price } : {}),
  };
}

const DEFAULT_NAMES: Readonly<Record<CarrierErrorClass, string>> = {
  retry: 'carrier_error',
  failover: 'carrier_rejected',
  permanent: 'carrier_rejected',
  ambiguous: 'unparseable_reply',
};

function classOf(
  codes: Definition['reply']['codes'],
  code: string,
): 'accepted' | 'retry' | 'failover' | 'permanent' | undefined {
  for (const cls of ['accepted', 'retry', 'failover', 'permanent'] as const) {
    if (codes[cls].includes(code)) return cls;
  }
  return undefined;
}

/** HTTP defaults: 5xx and 429 retry, 401/403 failover, other 4xx permanent — unless overridden. */
function httpStatusError(rd: Definition['reply'], status: number, retryAfterMs: number | undefined) {
  const base = classifyHttpStatus(status, retryAfterMs);
  const override = rd.httpStatus[String(status)];
  const isOther4xx = status >= 400 && status < 500 && ![401, 403, 429].includes(status);
  const cls = override ?? (isOther4xx ? 'permanent' : base.class);
  if (cls === base.class) return base;
  return carrierError(cls, base.code, base.message, {
    carrierCode: base.carrierCode,
    ...(cls === 'retry' ? { retryAfterMs } : {}),
  });
}

/**
 * A webhook body (`what`: receipt, inbound message) as a tree: JSON, XML, form, or the query
 * string of a GET. Throws `ReceiptParseError`.
 */
function readWebhookDoc(fmt: PayloadFormat, req: InboundHttp, what: string): unknown {
  if (req.method.toUpperCase() === 'GET') {
    if (fmt !== 'form') throw new ReceiptParseError(`${what}s must be posted as ${fmt}`);
    const query = Object.fromEntries(parseUrl(req.url).searchParams);
    if (Object.keys(query).length === 0) throw new ReceiptParseError(`${what} without parameters`);
    return query;
  }
  const type = mediaType(req);
  if (type !== '' && !RECEIPT_TYPES[fmt].includes(type)) {
    throw new ReceiptParseError(`${what}s must be ${fmt}, got ${type}`);
  }
  if (req.rawBody.trim() === '') throw new ReceiptParseError(`${what} body is empty`);
  const doc = parsePayload(req.rawBody, fmt);
  if (doc === undefined || typeof doc !== 'object' || doc === null) {
    throw new ReceiptParseError(`${what} body is not well-formed ${fmt}`);
  }
  return doc;
}

/** An inbound post → messages or parts, read at the definition's paths. Throws `ReceiptParseError`. */
export function parseConfiguredInbound(def: Definition, req: InboundHttp): InboundPart[] {
  const ic = def.inbound;
  if (!ic) throw new ReceiptParseError('this carrier delivers no inbound messages');
  const doc = readWebhookDoc(ic.format, req, 'inbound message');
  const items = ic.itemsPath ? itemsAt(doc, ic.itemsPath) : [doc];
  if (items.length === 0) throw new ReceiptParseError(`no inbound messages at ${ic.itemsPath}`);
  return items.map((item): InboundPart => {
    const carrierMessageId = scalarAt(item, ic.carrierMessageIdPath);
    if (!carrierMessageId) throw new ReceiptParseError(`inbound message without ${ic.carrierMessageIdPath}`);
    const part: InboundPart = {
      carrierMessageId,
      from: inboundAddress(scalarAt(item, ic.fromPath), ic.fromPath),
      to: inboundAddress(scalarAt(item, ic.toPath), ic.toPath),
      text: scalarAt(item, ic.textPath) ?? '',
    };
    if (!ic.concat) return part;
    const ref = scalarAt(item, ic.concat.refPath);
    if (ref === undefined) return part;
    const total = Number(scalarAt(item, ic.concat.totalPath));
    const seq = Number(scalarAt(item, ic.concat.partPath));
    if (!Number.isInteger(total) || !Number.isInteger(seq) || total < 1 || seq < 1 || seq > total) {
      throw new ReceiptParseError('inbound part with a malformed total or part number');
    }
    return total === 1 ? part : { ...part, concat: { ref, total, seq } };
  });
}

/**
 * A receipt post → receipts (one per item when `itemsPath` is set). Our message id comes from
 * `messageIdPath`, else from the callback URL's `mid` when the post holds one receipt.
 */
export function parseConfiguredReceipts(def: Definition, req: InboundHttp): Receipt[] {
  const rc = def.receipts;
  const doc = readWebhookDoc(rc.format, req, 'receipt');
  const items = rc.itemsPath ? itemsAt(doc, rc.itemsPath) : [doc];
  if (items.length === 0) throw new ReceiptParseError(`no receipts at ${rc.itemsPath}`);
  const urlMid = items.length === 1 ? messageIdFromUrl(req.url) : undefined;
  const statuses = new Map(Object.entries(rc.statuses).map(([k, v]) => [k.toLowerCase(), v]));
  return items.map((item): Receipt => {
    const carrierMessageId = scalarAt(item, rc.carrierMessageIdPath);
    const carrierStatus = scalarAt(item, rc.statusPath);
    if (!carrierMessageId) throw new ReceiptParseError(`receipt without ${rc.carrierMessageIdPath}`);
    if (!carrierStatus) throw new ReceiptParseError(`receipt without ${rc.statusPath}`);
    const messageId = (rc.messageIdPath ? scalarAt(item, rc.messageIdPath) : undefined) ?? urlMid;
    const rawError = rc.errorCodePath ? scalarAt(item, rc.errorCodePath) : undefined;
    const errorCode = rawError !== undefined && !rc.noErrorCodes.includes(rawError) ? rawError : undefined;
    const errorMessage = errorCode && rc.errorTextPath ? scalarAt(item, rc.errorTextPath) : undefined;
    const status: ReceiptStatus = statuses.get(carrierStatus.toLowerCase()) ?? 'enroute';
    return {
      carrierMessageId,
      ...(messageId ? { messageId } : {}),
      status,
      carrierStatus,
      ...(errorCode ? { errorCode } : {}),
      ...(errorMessage ? { errorMessage } : {}),
    };
  });
}

/**
 * The receipt's authentication (none, shared secret or HMAC of the raw body), then — since
 * neither covers the URL — that the callback URL's `mid` names a message of the body when the
 * body names ours. Never throws.
 */
export function verifyConfiguredReceipt(def: Definition, req: InboundHttp): boolean {
  const auth = def.receipts.auth;
  try {
    if (auth.type === 'shared-secret' && !verifySharedSecret(req, auth.header, auth.secret)) return false;
    if (auth.type === 'hmac-sha256' && !verifyHmacSignature(req, auth)) return false;
    const mid = messageIdFromUrl(req.url);
    if (mid === undefined || !def.receipts.messageIdPath) return true;
    let ours: Array<string | undefined>;
    try {
      const bodyOnly = req.method.toUpperCase() === 'GET' ? req : { ...req, url: stripQuery(req.url) };
      ours = parseConfiguredReceipts(def, bodyOnly).map((r) => r.messageId);
    } catch {
      return true; // authenticated but unreadable: parseReceipts answers it
    }
    return ours.every((m) => m === undefined) || ours.includes(mid);
  } catch {
    return false;
  }
}

function stripQuery(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}
