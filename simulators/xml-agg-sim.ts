/**
 * Simulator of a small SMS aggregator that speaks Vonage-style XML (the carrier behind
 * `carriers/xml-aggregator.json`): `POST /sms/xml` with Basic auth and an `<mt-submission>`
 * body, replies `<mt-submission-response>` with one `<message>` per part (HTTP 200 even on error,
 * the `status` says), and one `<dlr>` receipt per message, signed `X-Signature: sha256=<hex>`
 * (HMAC-SHA256 of the raw body).
 */
import { randomBytes } from 'node:crypto';
import { formatDecimalMicros } from '../adapters/decimal.ts';
import { parseXmlSafe, scalarAt } from '../adapters/payload.ts';
import { escapeXml } from '../adapters/template.ts';
import { hmacSha256 } from '../adapters/webhook-auth.ts';
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

export interface XmlAggSimCredentials {
  readonly username: string;
  readonly password: string;
  /** HMAC-SHA256 key of the `X-Signature` receipt header. */
  readonly webhookSecret: string;
}

/** Default price per part: 0.0060. */
export const XML_AGG_SIM_PRICE_MICROS = 6_000;

const SUBMIT_PATH = '/sms/xml';
const NETWORK = '23410';

interface XmlAggSubmission extends SimSubmission {
  readonly from: string;
  readonly text: string;
  readonly unicode: boolean;
  readonly callback?: string | undefined;
}

/** DLR status word and errCode per simulated outcome (the Vonage DLR vocabulary). */
const DLRS: Readonly<Record<ReceiptOutcome, { status: string; errCode: string; errText?: string }>> = {
  delivered: { status: 'delivered', errCode: '0' },
  undelivered: { status: 'failed', errCode: '2', errText: 'Absent subscriber - temporary' },
  failed: { status: 'rejected', errCode: '6', errText: 'Anti-spam rejection' },
  expired: { status: 'expired', errCode: '1', errText: 'Unknown' },
};

type Fields = Readonly<Record<string, string>>;

const MESSAGE_FIELDS = [
  'to',
  'messageId',
  'status',
  'errorText',
  'clientRef',
  'remainingBalance',
  'messagePrice',
  'network',
] as const;

/** `<mt-submission-response>` with one `<message>` per entry, every element present (empty when unset). */
function xmlReply(messages: readonly Fields[], status = 200): SimReply {
  const items = messages
    .map((m) => `<message>${MESSAGE_FIELDS.map((f) => element(f, m[f])).join('')}</message>`)
    .join('');
  return {
    status,
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: `<?xml version="1.0" encoding="UTF-8"?><mt-submission-response><messages count='${messages.length}'>${items}</messages></mt-submission-response>`,
  };
}

function element(name: string, value: string | undefined): string {
  return value === undefined || value === '' ? `<${name}/>` : `<${name}>${escapeXml(value)}</${name}>`;
}

function xmlError(status: string, errorText: string, to = ''): SimReply {
  return xmlReply([{ to, status, errorText }]);
}

function xmlAggProfile(creds: XmlAggSimCredentials): CarrierProfile<XmlAggSubmission> {
  const expectedAuth = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  let balanceMicros = 50_000_000n;
  return {
    name: 'xml-aggregator',
    defaultPriceMicros: XML_AGG_SIM_PRICE_MICROS,
    isSubmit: (req) => req.method === 'POST' && req.url.pathname === SUBMIT_PATH,
    notFound: () => ({ status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' }),
    check(req: SimRequest) {
      const bad = (status: string, text: string, to?: string) => ({
        ok: false as const,
        reply: xmlError(status, text, to),
      });
      if (req.headers.authorization !== expectedAuth) return bad('4', 'Bad Credentials');
      const doc = parseXmlSafe(req.body);
      if (doc === undefined) return bad('2', 'Unreadable XML');
      const get = (f: string) => scalarAt(doc, `mt-submission.${f}`);
      const to = get('to');
      const from = get('from');
      const text = get('text');
      const callback = get('callback');
      const clientRef = get('clientRef');
      const validity = get('validity');
      if (!from) return bad('2', 'Missing from param');
      if (!to) return bad('2', 'Missing to param');
      if (!text) return bad('2', 'Missing text param');
      if (!/^\d{7,15}$/.test(to)) return bad('3', 'Invalid to param', to);
      if (validity !== undefined && !/^\d+$/.test(validity)) return bad('3', 'Invalid validity param', to);
      if (callback !== undefined && !/^https?:\/\/\S+$/.test(callback))
        return bad('23', 'Invalid Callback Url', to);
      return {
        ok: true,
        submission: { to, from, text, unicode: get('encoding') === 'UCS-2', callback, clientRef },
      };
    },
    fault(kind, sub) {
      switch (kind) {
        case 'serverError':
          return xmlError('5', 'Internal Error', sub.to);
        case 'permanent':
          return xmlError('7', 'Number barred.', sub.to);
        case 'throttle':
          return xmlError('1', 'Throughput Rate Exceeded - please wait [ 1000 ] and retry', sub.to);
        case 'authFail':
          return xmlError('4', 'Bad Credentials', sub.to);
      }
    },
    inbound(mo, url) {
      // Parts of a long MO come one by one, each signed like a receipt.
      const { ref, parts } = inboundParts(mo.text);
      return parts.map((text, i) => {
        const body =
          '<?xml version="1.0" encoding="UTF-8"?><mo>' +
          element('messageId', randomBytes(8).toString('hex').toUpperCase()) +
          element('from', mo.from.replace(/^\+/, '')) +
          element('to', mo.to.replace(/^\+/, '')) +
          element('text', text) +
          (parts.length > 1
            ? element('concatRef', ref) +
              element('concatTotal', String(parts.length)) +
              element('concatPart', String(i + 1))
            : '') +
          '</mo>';
        return {
          url,
          method: 'POST' as const,
          headers: {
            'content-type': 'application/xml; charset=utf-8',
            'x-signature': `sha256=${hmacSha256(creds.webhookSecret, body)}`,
          },
          body,
        };
      });
    },
    accept(sub, config) {
      const parts = countSegments(sub.text, sub.unicode);
      const price = BigInt(config.priceMicros);
      const ids = Array.from({ length: parts }, () => randomBytes(8).toString('hex').toUpperCase());
      const messages = ids.map((messageId) => {
        balanceMicros -= price;
        return {
          to: sub.to,
          messageId,
          status: '0',
          clientRef: sub.clientRef ?? '',
          remainingBalance: formatDecimalMicros(balanceMicros, 8),
          messagePrice: formatDecimalMicros(price, 8),
          network: NETWORK,
        };
      });
      const first = ids[0] ?? '';
      return {
        reply: xmlReply(messages),
        receipts(outcome): OutgoingReceipt[] {
          if (sub.callback === undefined) return [];
          const dlr = DLRS[outcome];
          // The aggregator folds its parts: one receipt per message, under the first part's id.
          const body =
            '<?xml version="1.0" encoding="UTF-8"?><dlr>' +
            element('messageId', first) +
            element('clientRef', sub.clientRef) +
            element('msisdn', sub.to) +
            element('status', dlr.status) +
            element('errCode', dlr.errCode) +
            element('errText', dlr.errText) +
            element('parts', String(parts)) +
            element('scts', yymmddhhmm()) +
            '</dlr>';
          return [
            {
              url: sub.callback,
              method: 'POST',
              headers: {
                'content-type': 'application/xml; charset=utf-8',
                'x-signature': `sha256=${hmacSha256(creds.webhookSecret, body)}`,
              },
              body,
            },
          ];
        },
      };
    },
  };
}

/** Starts the XML aggregator simulator on a real socket (default 127.0.0.1, random port). */
export function startXmlAggSimulator(
  opts: SimulatorOptions<XmlAggSimCredentials>,
): Promise<RunningSimulator> {
  return startSimulator(xmlAggProfile(opts.credentials), opts);
}
