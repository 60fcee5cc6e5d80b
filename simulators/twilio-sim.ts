/**
 * Twilio Programmable Messaging simulator: `POST /2010-04-01/Accounts/{Sid}/Messages.json` with
 * Basic auth, Twilio's error bodies, and status callbacks signed with `X-Twilio-Signature`.
 */
import { randomBytes } from 'node:crypto';
import { twilioSignature } from '../adapters/twilio.ts';
import {
  rfc2822,
  twilioErrorBody,
  twilioIncomingParams,
  twilioPrice,
  twilioStatusParams,
} from '../adapters/twilio-format.ts';
import {
  type CarrierProfile,
  countSegments,
  type OutgoingReceipt,
  type ReceiptOutcome,
  type RunningSimulator,
  type SimInbound,
  type SimReply,
  type SimRequest,
  type SimSubmission,
  type SimulatorOptions,
  startSimulator,
  yymmddhhmm,
} from './sim-core.ts';

export interface TwilioSimCredentials {
  readonly accountSid: string;
  readonly authToken: string;
}

/** Default price per segment: USD 0.0079. */
export const TWILIO_SIM_PRICE_MICROS = 7_900;

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_BODY_CHARS = 1600;

interface TwilioSubmission extends SimSubmission {
  readonly from: string;
  readonly body: string;
  readonly statusCallback?: string | undefined;
}

/** `{code, message, more_info, status}` as Twilio answers errors. */
function twilioError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): SimReply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(twilioErrorBody(status, code, message)),
  };
}

/** The callback status and ErrorCode for each simulated outcome (30036: validity period expired). */
const CALLBACKS: Readonly<Record<ReceiptOutcome, { status: string; errorCode?: string }>> = {
  delivered: { status: 'delivered' },
  undelivered: { status: 'undelivered', errorCode: '30003' },
  failed: { status: 'failed', errorCode: '30008' },
  expired: { status: 'failed', errorCode: '30036' },
};

function twilioProfile(creds: TwilioSimCredentials): CarrierProfile<TwilioSubmission> {
  const expectedAuth = `Basic ${Buffer.from(`${creds.accountSid}:${creds.authToken}`).toString('base64')}`;
  return {
    name: 'twilio',
    defaultPriceMicros: TWILIO_SIM_PRICE_MICROS,
    isSubmit: (req) => req.method === 'POST' && MESSAGES_PATH.test(req.url.pathname),
    notFound: (req) => twilioError(404, 20404, `The requested resource ${req.url.pathname} was not found`),
    check(req: SimRequest) {
      if (req.headers.authorization !== expectedAuth) {
        return {
          ok: false,
          reply: twilioError(401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' }),
        };
      }
      const sid = MESSAGES_PATH.exec(req.url.pathname)?.[1];
      if (sid !== creds.accountSid) {
        return {
          ok: false,
          reply: twilioError(404, 20404, `The requested resource ${req.url.pathname} was not found`),
        };
      }
      const p = new URLSearchParams(req.body);
      const to = p.get('To');
      const from = p.get('From');
      const body = p.get('Body');
      const callback = p.get('StatusCallback') ?? undefined;
      const validity = p.get('ValidityPeriod');
      const bad = (code: number, message: string) => ({
        ok: false as const,
        reply: twilioError(400, code, message),
      });
      if (!to) return bad(21604, "A 'To' phone number is required.");
      if (!E164.test(to)) return bad(21211, `Invalid 'To' Phone Number: ${to}`);
      if (!from) return bad(21603, "A 'From' phone number is required.");
      if (!body) return bad(21602, 'Message body is required.');
      if ([...body].length > MAX_BODY_CHARS) {
        return bad(21617, 'The concatenated message body exceeds the 1600 character limit.');
      }
      if (
        validity !== null &&
        !(/^\d+$/.test(validity) && Number(validity) >= 1 && Number(validity) <= 36_000)
      ) {
        return bad(21624, 'Invalid validity period value');
      }
      if (callback !== undefined && !isHttpUrl(callback)) return bad(21609, 'Invalid StatusCallback url');
      const clientRef =
        callback !== undefined ? (new URL(callback).searchParams.get('mid') ?? undefined) : undefined;
      return {
        ok: true,
        submission: {
          to,
          from,
          body,
          text: body,
          statusCallback: callback,
          clientRef,
          segments: countSegments(body),
        },
      };
    },
    fault(kind) {
      switch (kind) {
        case 'serverError':
          return twilioError(500, 20500, 'Internal Server Error');
        case 'permanent':
          return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
        case 'throttle':
          return twilioError(429, 20429, 'Too Many Requests', { 'retry-after': '1' });
        case 'authFail':
          return twilioError(401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' });
      }
    },
    inbound: (mo, url) => twilioInbound(creds, mo, url),
    accept(sub, config) {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const segments = countSegments(sub.body);
      const now = new Date();
      const uri = `/2010-04-01/Accounts/${creds.accountSid}/Messages/${sid}`;
      const reply: SimReply = {
        status: 201,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          account_sid: creds.accountSid,
          api_version: '2010-04-01',
          body: sub.body,
          date_created: rfc2822(now),
          date_sent: null,
          date_updated: rfc2822(now),
          direction: 'outbound-api',
          error_code: null,
          error_message: null,
          from: sub.from,
          messaging_service_sid: null,
          num_media: '0',
          num_segments: String(segments),
          price: twilioPrice(BigInt(config.priceMicros) * BigInt(segments)),
          price_unit: 'USD',
          sid,
          status: 'queued',
          subresource_uris: { media: `${uri}/Media.json` },
          to: sub.to,
          uri: `${uri}.json`,
        }),
      };
      return {
        reply,
        receipts(outcome): OutgoingReceipt[] {
          if (sub.statusCallback === undefined) return [];
          const { status, errorCode } = CALLBACKS[outcome];
          const params = twilioStatusParams({
            sid,
            accountSid: creds.accountSid,
            from: sub.from,
            to: sub.to,
            status,
            ...(errorCode === undefined ? {} : { errorCode }),
            ...(status === 'delivered' || status === 'undelivered' ? { rawDlrDoneDate: yymmddhhmm() } : {}),
          });
          return [
            {
              url: sub.statusCallback,
              method: 'POST',
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'user-agent': 'TwilioProxy/1.1',
                'x-twilio-signature': twilioSignature(sub.statusCallback, params, creds.authToken),
              },
              body: new URLSearchParams(params).toString(),
            },
          ];
        },
      };
    },
  };
}

/** Twilio's incoming-message webhook: one form post (Twilio reassembles parts), signed. */
function twilioInbound(creds: TwilioSimCredentials, mo: SimInbound, url: string): OutgoingReceipt[] {
  const params = twilioIncomingParams({
    sid: `SM${randomBytes(16).toString('hex')}`,
    accountSid: creds.accountSid,
    from: mo.from,
    to: mo.to,
    body: mo.text,
    segments: countSegments(mo.text),
  });
  return [
    {
      url,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'TwilioProxy/1.1',
        'x-twilio-signature': twilioSignature(url, params, creds.authToken),
      },
      body: new URLSearchParams(params).toString(),
    },
  ];
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Starts a Twilio simulator on a real socket (default 127.0.0.1, random port). */
export function startTwilioSimulator(
  opts: SimulatorOptions<TwilioSimCredentials>,
): Promise<RunningSimulator> {
  return startSimulator(twilioProfile(opts.credentials), opts);
}
