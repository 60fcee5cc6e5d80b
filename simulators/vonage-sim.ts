/**
 * Vonage SMS API simulator: `POST /sms/json` (form or JSON, GET too), always HTTP 200 with a
 * per-part `status`, and one delivery receipt per part to the message's `callback` URL
 * (form POST, JSON POST or GET as `receiptFormat` says), signed with `sig` when the account has
 * a signature secret.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { formatDecimalMicros } from '../adapters/decimal.ts';
import { vonageSignature } from '../adapters/vonage.ts';
import { analyzeBody } from '../domain/segments.ts';
import {
  type CarrierProfile,
  countSegments,
  inboundParts,
  type OutgoingReceipt,
  type ReceiptOutcome,
  type RunningSimulator,
  type SimReply,
  type SimRequest,
  type SimSubmission,
  type SimulatorOptions,
  startSimulator,
  yymmddhhmm,
} from './sim-core.ts';

export interface VonageSimCredentials {
  readonly apiKey: string;
  readonly apiSecret: string;
  /** When set, every receipt carries `timestamp`, `nonce` and an `md5hash` `sig`. */
  readonly signatureSecret?: string;
}

/** Default price per part: EUR 0.0065. */
export const VONAGE_SIM_PRICE_MICROS = 6_500;

const TYPES = new Set(['text', 'unicode', 'binary', 'wappush', 'vcal', 'vcard']);
/** A made-up MCCMNC for every destination. */
const NETWORK = '12345';

interface VonageSubmission extends SimSubmission {
  readonly from: string;
  readonly text: string;
  readonly unicode: boolean;
  readonly callback?: string | undefined;
}

/** DLR status and err-code per simulated outcome. */
const DLRS: Readonly<Record<ReceiptOutcome, { status: string; errCode: string }>> = {
  delivered: { status: 'delivered', errCode: '0' },
  undelivered: { status: 'failed', errCode: '2' },
  failed: { status: 'rejected', errCode: '6' },
  expired: { status: 'expired', errCode: '1' },
};

/** The one reply shape of `/sms/json`: HTTP 200, one entry per part. */
function vonageReply(messages: ReadonlyArray<Record<string, string>>): SimReply {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ 'message-count': String(messages.length), messages }),
  };
}

function vonageError(status: string, errorText: string): SimReply {
  return vonageReply([{ status, 'error-text': errorText }]);
}

/** Submit parameters from the query and the body (form, or JSON by content type). */
function submitParams(req: SimRequest): Map<string, string> {
  const params = new Map<string, string>(req.url.searchParams);
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    try {
      const body: unknown = JSON.parse(req.body);
      if (typeof body === 'object' && body !== null) {
        for (const [k, v] of Object.entries(body)) {
          if (typeof v === 'string' || typeof v === 'number') params.set(k, String(v));
        }
      }
    } catch {
      // unreadable JSON: the missing-parameter checks answer it
    }
  } else {
    for (const [k, v] of new URLSearchParams(req.body)) params.set(k, v);
  }
  return params;
}

function vonageTimestamp(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function vonageProfile(creds: VonageSimCredentials): CarrierProfile<VonageSubmission> {
  let balanceMicros = 100_000_000n;
  return {
    name: 'vonage',
    defaultPriceMicros: VONAGE_SIM_PRICE_MICROS,
    isSubmit: (req) => req.url.pathname === '/sms/json' && (req.method === 'POST' || req.method === 'GET'),
    notFound: () => ({ status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' }),
    check(req) {
      const p = submitParams(req);
      const bad = (status: string, text: string) => ({
        ok: false as const,
        reply: vonageError(status, text),
      });
      const key = p.get('api_key');
      const secret = p.get('api_secret');
      if (!key) return bad('2', 'Missing api_key');
      if (!secret) return bad('2', 'Missing api_secret');
      if (key !== creds.apiKey || secret !== creds.apiSecret) return bad('4', 'Bad Credentials');
      const from = p.get('from');
      const to = p.get('to');
      const type = p.get('type') || 'text';
      const text = p.get('text');
      const ttl = p.get('ttl');
      const callback = p.get('callback') ?? undefined;
      const clientRef = p.get('client-ref') ?? undefined;
      if (!from) return bad('2', 'Missing from param');
      if (!to) return bad('2', 'Missing to param');
      if (!TYPES.has(type)) return bad('3', 'Invalid type param');
      if (!text && (type === 'text' || type === 'unicode')) return bad('2', 'Missing text param');
      if (!/^\d{7,15}$/.test(to)) return bad('3', 'Invalid to param');
      if (ttl !== undefined && !(/^\d+$/.test(ttl) && Number(ttl) >= 20_000 && Number(ttl) <= 604_800_000)) {
        return bad('3', 'Invalid ttl param');
      }
      if (clientRef !== undefined && clientRef.length > 40) return bad('3', 'Invalid client-ref param');
      if (callback !== undefined && !/^https?:\/\/\S+$/.test(callback))
        return bad('23', 'Invalid Callback Url');
      return {
        ok: true,
        submission: {
          to,
          from,
          text: text ?? '',
          unicode: type === 'unicode',
          callback,
          clientRef,
          segments: countSegments(text ?? '', type === 'unicode'),
        },
      };
    },
    fault(kind) {
      switch (kind) {
        case 'serverError':
          return vonageError('5', 'Internal Error');
        case 'permanent':
          return vonageError('7', 'Number barred.');
        case 'throttle':
          return vonageError('1', 'Throughput Rate Exceeded - please wait [ 1000 ] and retry');
        case 'authFail':
          return vonageError('4', 'Bad Credentials');
      }
    },
    inbound(mo, url, config) {
      // Vonage posts each part of a long message on its own, with its own id.
      const { ref, parts } = inboundParts(mo.text);
      const unicode = analyzeBody(mo.text).encoding === 'UCS-2';
      return parts.map((text, i) => {
        const params: Array<[string, string]> = [
          ['msisdn', mo.from.replace(/^\+/, '')],
          ['to', mo.to.replace(/^\+/, '')],
          ['messageId', randomBytes(8).toString('hex').toUpperCase()],
          ['text', text],
          ['type', unicode ? 'unicode' : 'text'],
          ['keyword', (mo.text.trim().split(/\s+/)[0] ?? '').toUpperCase()],
          ['api-key', creds.apiKey],
          ['message-timestamp', new Date().toISOString().slice(0, 19).replace('T', ' ')],
        ];
        if (parts.length > 1) {
          params.push(
            ['concat', 'true'],
            ['concat-ref', ref],
            ['concat-total', String(parts.length)],
            ['concat-part', String(i + 1)],
          );
        }
        return buildReceipt(url, params, config.receiptFormat, creds.signatureSecret);
      });
    },
    accept(sub, config) {
      const parts = countSegments(sub.text, sub.unicode);
      const price = BigInt(config.priceMicros);
      const ids = Array.from({ length: parts }, () => randomBytes(8).toString('hex').toUpperCase());
      const messages = ids.map((id) => {
        balanceMicros -= price;
        return {
          to: sub.to,
          'message-id': id,
          status: '0',
          'remaining-balance': formatDecimalMicros(balanceMicros, 8),
          'message-price': formatDecimalMicros(price, 8),
          network: NETWORK,
          ...(sub.clientRef !== undefined ? { 'client-ref': sub.clientRef } : {}),
        };
      });
      return {
        reply: vonageReply(messages),
        receipts(outcome): OutgoingReceipt[] {
          const callback = sub.callback;
          if (callback === undefined) return [];
          const { status, errCode } = DLRS[outcome];
          const now = new Date();
          return ids.map((id) => {
            const params: Array<[string, string]> = [
              ['msisdn', sub.to],
              ['to', sub.from],
              ['network-code', NETWORK],
              ['messageId', id],
              ['price', formatDecimalMicros(price, 8)],
              ['status', status],
              ['scts', yymmddhhmm(now)],
              ['err-code', errCode],
              ['api-key', creds.apiKey],
              ...(sub.clientRef !== undefined ? [['client-ref', sub.clientRef] as [string, string]] : []),
              ['message-timestamp', vonageTimestamp(now)],
            ];
            return buildReceipt(callback, params, config.receiptFormat, creds.signatureSecret);
          });
        },
      };
    },
  };
}

/**
 * One DLR request. Signing covers the parameters Vonage sends: the body for POST, every query
 * parameter of the final URL for GET (what the receiving end can see).
 */
function buildReceipt(
  callback: string,
  params: Array<[string, string]>,
  format: 'form' | 'json' | 'get',
  signatureSecret: string | undefined,
): OutgoingReceipt {
  const signed = [...params];
  if (signatureSecret !== undefined) {
    signed.push(['timestamp', String(Math.floor(Date.now() / 1000))], ['nonce', randomUUID()]);
  }
  if (format === 'get') {
    const url = new URL(callback);
    for (const [k, v] of signed) url.searchParams.append(k, v);
    if (signatureSecret !== undefined)
      url.searchParams.append('sig', vonageSignature(url.searchParams, signatureSecret));
    return { url: url.toString(), method: 'GET', headers: {} };
  }
  if (signatureSecret !== undefined) signed.push(['sig', vonageSignature(signed, signatureSecret)]);
  if (format === 'json') {
    return {
      url: callback,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Object.fromEntries(signed)),
    };
  }
  return {
    url: callback,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(signed).toString(),
  };
}

/** Starts a Vonage simulator on a real socket (default 127.0.0.1, random port). */
export function startVonageSimulator(
  opts: SimulatorOptions<VonageSimCredentials>,
): Promise<RunningSimulator> {
  return startSimulator(vonageProfile(opts.credentials), opts);
}
