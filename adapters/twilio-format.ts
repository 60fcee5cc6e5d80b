/**
 * Twilio's Messages API wire format, written by both sides that speak it: the Twilio simulator
 * (as the carrier) and Herald's Twilio-compatible API (DESIGN §11). Pure: no I/O.
 */
import type { MessageStatus } from '../domain/status.ts';
import { formatDecimalMicros } from './decimal.ts';

export const TWILIO_API_VERSION = '2010-04-01';

/** RFC 2822 as Twilio writes it: "Thu, 30 Jul 2015 20:12:31 +0000". */
export function rfc2822(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/** Twilio charges are negative decimal strings with five places ("-0.00790"), six when needed. */
export function twilioPrice(micros: bigint): string {
  const places = micros % 10n === 0n ? 5 : 6;
  return formatDecimalMicros(-micros, places);
}

/** `{code, message, more_info, status}`: the body of every Twilio error answer. */
export function twilioErrorBody(
  status: number,
  code: number,
  message: string,
): { code: number; message: string; more_info: string; status: number } {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** What a Twilio webhook says of one message: its sid, the account, the numbers. */
export interface TwilioWebhookMessage {
  readonly sid: string;
  readonly accountSid: string;
  readonly from: string;
  readonly to: string;
}

/** The form fields of Twilio's status callback (signed over all of them with `X-Twilio-Signature`). */
export function twilioStatusParams(
  m: TwilioWebhookMessage & {
    readonly status: string;
    readonly errorCode?: string;
    /** YYMMDDhhmm, on delivered and undelivered. */
    readonly rawDlrDoneDate?: string;
  },
): Array<[string, string]> {
  const params: Array<[string, string]> = [
    ['SmsSid', m.sid],
    ['SmsStatus', m.status],
    ['MessageStatus', m.status],
    ['To', m.to],
    ['MessageSid', m.sid],
    ['AccountSid', m.accountSid],
    ['From', m.from],
    ['ApiVersion', TWILIO_API_VERSION],
  ];
  if (m.errorCode !== undefined) params.push(['ErrorCode', m.errorCode]);
  if (m.rawDlrDoneDate !== undefined) params.push(['RawDlrDoneDate', m.rawDlrDoneDate]);
  return params;
}

/** The form fields of Twilio's incoming-message webhook (Twilio reassembles the parts first). */
export function twilioIncomingParams(
  m: TwilioWebhookMessage & { readonly body: string; readonly segments: number },
): Array<[string, string]> {
  return [
    ['SmsMessageSid', m.sid],
    ['NumMedia', '0'],
    ['SmsSid', m.sid],
    ['SmsStatus', 'received'],
    ['Body', m.body],
    ['To', m.to],
    ['NumSegments', String(m.segments)],
    ['MessageSid', m.sid],
    ['AccountSid', m.accountSid],
    ['From', m.from],
    ['ApiVersion', TWILIO_API_VERSION],
  ];
}

/** The Twilio message statuses Herald's map to (`status` of the resource, `MessageStatus` of callbacks). */
export const TWILIO_STATUSES = [
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'canceled',
] as const;
export type TwilioStatus = (typeof TWILIO_STATUSES)[number];

/**
 * Herald's status as Twilio names it: `accepted` (stored, not yet in a carrier's line) is what
 * Twilio calls `queued`; `expired` is Twilio's `failed` with error 30036.
 */
export function twilioStatusOf(status: MessageStatus): TwilioStatus {
  switch (status) {
    case 'accepted':
      return 'queued';
    case 'expired':
      return 'failed';
    default:
      return status;
  }
}

/**
 * The Twilio error code of a message that did not arrive: Twilio's own when the carrier was
 * Twilio, else the nearest of Twilio's codes for Herald's error (null while there is none).
 */
export function twilioErrorCodeOf(message: {
  readonly status: MessageStatus;
  readonly error_code: string | null;
  readonly carrier_error_code: string | null;
}): number | null {
  if (message.status === 'expired') return 30036;
  if (message.carrier_error_code !== null && /^\d{5}$/.test(message.carrier_error_code)) {
    return Number(message.carrier_error_code);
  }
  if (message.error_code === null) return null;
  return HERALD_TO_TWILIO_ERRORS[message.error_code] ?? (message.status === 'undelivered' ? 30003 : 30008);
}

/** Herald error codes that have a Twilio counterpart. */
const HERALD_TO_TWILIO_ERRORS: Readonly<Record<string, number>> = {
  insufficient_funds: 30002,
  no_route: 21408,
  undelivered: 30003,
  expired: 30036,
  canceled: 30008,
};
