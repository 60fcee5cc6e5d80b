/**
 * Infobip SMS simulator: `POST /sms/3/messages` with `Authorization: App <key>`, Infobip's status
 * objects and error bodies, duplicate `messageId`s refused as Infobip does, and delivery reports
 * as JSON `results[]` to each message's webhook — optionally batched, several reports per POST.
 */
import { randomUUID } from 'node:crypto';
import { formatDecimalMicros } from '../adapters/decimal.ts';
import {
  type CarrierProfile,
  countSegments,
  type OutgoingReceipt,
  type ReceiptOutcome,
  type RunningSimulator,
  type SimReply,
  type SimRequest,
  type SimSubmission,
  type SimulatorOptions,
  startSimulator,
} from './sim-core.ts';

export interface InfobipSimCredentials {
  readonly apiKey: string;
  /** When set, every report carries this secret in `webhookSecretHeader`. */
  readonly webhookSecret?: string;
  /** Default `x-herald-webhook-secret`. */
  readonly webhookSecretHeader?: string;
}

export interface InfobipSimOptions extends SimulatorOptions<InfobipSimCredentials> {
  /**
   * Batch reports: those for the same webhook path that fall due while a report post is still
   * waiting to go out travel in that one post (Infobip's bulk reports). Default false.
   */
  readonly batchReceipts?: boolean;
}

/** Default price per message part: EUR 0.0070. */
export const INFOBIP_SIM_PRICE_MICROS = 7_000;

const SEND_PATH = '/sms/3/messages';
/** A made-up MCCMNC for every destination. */
const MCC_MNC = '22801';

interface InfobipStatus {
  readonly groupId: number;
  readonly groupName: string;
  readonly id: number;
  readonly name: string;
  readonly description: string;
}

const PENDING_ACCEPTED: InfobipStatus = {
  groupId: 1,
  groupName: 'PENDING',
  id: 26,
  name: 'PENDING_ACCEPTED',
  description: 'Message sent to next instance',
};

const rejected = (id: number, name: string, description: string): InfobipStatus => ({
  groupId: 5,
  groupName: 'REJECTED',
  id,
  name,
  description,
});

/** Report status and error per simulated outcome. */
const REPORTS: Readonly<
  Record<ReceiptOutcome, { status: InfobipStatus; error: Record<string, string | number | boolean> }>
> = {
  delivered: {
    status: {
      groupId: 3,
      groupName: 'DELIVERED',
      id: 5,
      name: 'DELIVERED_TO_HANDSET',
      description: 'Message delivered to handset',
    },
    error: {
      groupId: 0,
      groupName: 'OK',
      id: 0,
      name: 'NO_ERROR',
      description: 'No Error',
      permanent: false,
    },
  },
  undelivered: {
    status: {
      groupId: 2,
      groupName: 'UNDELIVERABLE',
      id: 9,
      name: 'UNDELIVERABLE_NOT_DELIVERED',
      description: 'Message sent not delivered',
    },
    error: {
      groupId: 1,
      groupName: 'HANDSET_ERRORS',
      id: 27,
      name: 'EC_ABSENT_SUBSCRIBER',
      description: 'Absent Subscriber',
      permanent: false,
    },
  },
  failed: {
    status: rejected(6, 'REJECTED_NETWORK', 'Network is forbidden'),
    error: {
      groupId: 2,
      groupName: 'USER_ERRORS',
      id: 1,
      name: 'EC_UNKNOWN_SUBSCRIBER',
      description: 'Unknown Subscriber',
      permanent: true,
    },
  },
  expired: {
    status: {
      groupId: 4,
      groupName: 'EXPIRED',
      id: 15,
      name: 'EXPIRED_EXPIRED',
      description: 'Message expired',
    },
    error: {
      groupId: 1,
      groupName: 'HANDSET_ERRORS',
      id: 6,
      name: 'EC_ABSENT_SUBSCRIBER_SM',
      description: 'Absent Subscriber SM',
      permanent: false,
    },
  },
};

interface InfobipSubmission extends SimSubmission {
  readonly from: string;
  readonly text: string;
  readonly messageId?: string | undefined;
  readonly webhookUrl?: string | undefined;
  readonly callbackData?: string | undefined;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): SimReply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** `{errorCode, description, action, violations, resources}` as the v3 API answers errors. */
function apiError(
  status: number,
  errorCode: string,
  description: string,
  violations: Array<{ property: string; violation: string }> = [],
  headers: Record<string, string> = {},
): SimReply {
  return json(status, { errorCode, description, action: null, violations, resources: [] }, headers);
}

function messageReply(to: string, messageId: string, status: InfobipStatus, messageCount?: number): SimReply {
  return json(200, {
    bulkId: `bulk-${randomUUID()}`,
    messages: [
      {
        messageId,
        status,
        destination: to,
        ...(messageCount !== undefined ? { details: { messageCount } } : {}),
      },
    ],
  });
}

/** Infobip's date format: "2019-11-09T16:00:00.000+0000". */
function infobipDate(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The first message of a send request, or the violations that refuse it. */
function readSend(
  body: string,
): { sub: InfobipSubmission } | { violations: Array<{ property: string; violation: string }> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { violations: [{ property: '', violation: 'malformed JSON' }] };
  }
  const messages = asObject(parsed)?.messages;
  const m = Array.isArray(messages) ? asObject(messages[0]) : undefined;
  if (!m) return { violations: [{ property: 'messages', violation: 'must not be empty' }] };
  const dests = m.destinations;
  const dest = Array.isArray(dests) ? asObject(dests[0]) : undefined;
  const to = asString(dest?.to);
  const text = asString(asObject(m.content)?.text);
  const from = asString(m.sender) ?? 'InfoSMS';
  const violations: Array<{ property: string; violation: string }> = [];
  if (!to) violations.push({ property: 'messages[0].destinations[0].to', violation: 'must not be blank' });
  if (!text) violations.push({ property: 'messages[0].content.text', violation: 'must not be blank' });
  const validity = asObject(asObject(m.options)?.validityPeriod);
  if (validity) {
    const amount = validity.amount;
    const unit = validity.timeUnit;
    const seconds =
      typeof amount === 'number' ? amount * (unit === 'HOURS' ? 3600 : unit === 'MINUTES' ? 60 : 1) : NaN;
    if (!(seconds >= 60 && seconds <= 172_800)) {
      violations.push({
        property: 'messages[0].options.validityPeriod',
        violation: 'must be between 1 minute and 48 hours',
      });
    }
  }
  const webhooks = asObject(m.webhooks);
  const webhookUrl = asString(asObject(webhooks?.delivery)?.url);
  if (webhookUrl !== undefined && !/^https?:\/\/\S+$/.test(webhookUrl)) {
    violations.push({ property: 'messages[0].webhooks.delivery.url', violation: 'must be a valid URL' });
  }
  if (violations.length > 0 || !to || !text) return { violations };
  const messageId = asString(dest?.messageId);
  const callbackData = asString(webhooks?.callbackData);
  return {
    sub: { to, from, text, messageId, webhookUrl, callbackData, clientRef: messageId ?? callbackData },
  };
}

function infobipProfile(
  creds: InfobipSimCredentials,
  batchReceipts: boolean,
): CarrierProfile<InfobipSubmission> {
  const expectedAuth = `App ${creds.apiKey}`;
  const secretHeader = (creds.webhookSecretHeader ?? 'x-herald-webhook-secret').toLowerCase();
  /** Infobip refuses a messageId it has seen: the ids of every accepted message. */
  const taken = new Set<string>();
  /** Report posts not sent yet, per webhook origin + path, that later reports may join. */
  const open = new Map<string, { results: unknown[]; body?: string }>();

  const webhookHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Infobip-Webhook',
    ...(creds.webhookSecret !== undefined ? { [secretHeader]: creds.webhookSecret } : {}),
  };
  const reportPost = (url: string, result: unknown): OutgoingReceipt[] => {
    const headers = webhookHeaders;
    if (!batchReceipts)
      return [{ url, method: 'POST', headers, body: JSON.stringify({ results: [result] }) }];
    const u = new URL(url);
    const key = u.origin + u.pathname;
    const joined = open.get(key);
    if (joined) {
      joined.results.push(result);
      return [];
    }
    const batch: { results: unknown[]; body?: string } = { results: [result] };
    open.set(key, batch);
    return [
      {
        url,
        method: 'POST',
        headers,
        // Read when the post goes out: the batch closes then, holding every report that joined.
        get body(): string {
          if (batch.body === undefined) {
            batch.body = JSON.stringify({ results: batch.results });
            if (open.get(key) === batch) open.delete(key);
          }
          return batch.body;
        },
      },
    ];
  };

  return {
    name: 'infobip',
    defaultPriceMicros: INFOBIP_SIM_PRICE_MICROS,
    isSubmit: (req) => req.method === 'POST' && req.url.pathname === SEND_PATH,
    notFound: (req) => apiError(404, 'E404', `Resource ${req.url.pathname} not found`),
    check(req: SimRequest) {
      if (req.headers.authorization !== expectedAuth) {
        return { ok: false, reply: apiError(401, 'E401', 'Invalid login details') };
      }
      const read = readSend(req.body);
      if ('violations' in read) {
        return { ok: false, reply: apiError(400, 'E400', 'Request cannot be processed.', read.violations) };
      }
      const { sub } = read;
      if (!/^\d{7,15}$/.test(sub.to)) {
        return {
          ok: false,
          reply: messageReply(
            sub.to,
            sub.messageId ?? randomUUID(),
            rejected(52, 'REJECTED_DESTINATION', 'Invalid destination address'),
          ),
        };
      }
      return { ok: true, submission: sub };
    },
    fault(kind, sub) {
      switch (kind) {
        case 'serverError':
          return apiError(500, 'E500', 'Internal server error');
        case 'permanent':
          return messageReply(
            sub.to,
            sub.messageId ?? randomUUID(),
            rejected(14, 'REJECTED_DESTINATION_BLOCKLISTED', 'Destination address is blocklisted'),
          );
        case 'throttle':
          return apiError(429, 'E429', 'Too many requests', [], { 'retry-after': '1' });
        case 'authFail':
          return apiError(401, 'E401', 'Invalid login details');
      }
    },
    inbound(mo, url) {
      // Infobip reassembles long messages: one result, `smsCount` parts.
      const keyword = (mo.text.trim().split(/\s+/)[0] ?? '').toUpperCase();
      const result = {
        messageId: randomUUID(),
        from: mo.from.replace(/^\+/, ''),
        to: mo.to.replace(/^\+/, ''),
        text: mo.text,
        cleanText: mo.text.trim().slice(keyword.length).trim(),
        keyword,
        receivedAt: new Date().toISOString().replace('Z', '+0000'),
        smsCount: countSegments(mo.text),
        price: { pricePerMessage: 0, currency: 'EUR' },
        callbackData: null,
      };
      return [
        {
          url,
          method: 'POST',
          headers: webhookHeaders,
          body: JSON.stringify({ results: [result], messageCount: 1, pendingMessageCount: 0 }),
        },
      ];
    },
    accept(sub, config) {
      if (sub.messageId !== undefined && taken.has(sub.messageId)) {
        return {
          reply: messageReply(
            sub.to,
            sub.messageId,
            rejected(23, 'REJECTED_DUPLICATE_MESSAGE_ID', 'Duplicate message id'),
          ),
          receipts: () => [],
        };
      }
      const messageId = sub.messageId ?? randomUUID();
      taken.add(messageId);
      const parts = countSegments(sub.text);
      const sentAt = new Date();
      return {
        reply: messageReply(sub.to, messageId, PENDING_ACCEPTED, parts),
        receipts(outcome): OutgoingReceipt[] {
          if (sub.webhookUrl === undefined) return [];
          const { status, error } = REPORTS[outcome];
          return reportPost(sub.webhookUrl, {
            bulkId: `bulk-${messageId}`,
            messageId,
            to: sub.to,
            sender: sub.from,
            sentAt: infobipDate(sentAt),
            doneAt: infobipDate(new Date()),
            messageCount: parts,
            mccMnc: MCC_MNC,
            ...(sub.callbackData !== undefined ? { callbackData: sub.callbackData } : {}),
            price: {
              pricePerMessage: Number(formatDecimalMicros(BigInt(config.priceMicros), 6)),
              currency: 'EUR',
            },
            status,
            error,
          });
        },
      };
    },
  };
}

/** Starts an Infobip simulator on a real socket (default 127.0.0.1, random port). */
export function startInfobipSimulator(opts: InfobipSimOptions): Promise<RunningSimulator> {
  return startSimulator(infobipProfile(opts.credentials, opts.batchReceipts ?? false), opts);
}
