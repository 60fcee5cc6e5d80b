/**
 * Herald's messages in the shape of Twilio's Message resource (DESIGN §11), and Herald's API
 * errors as Twilio's error answers: the Twilio-compatible API is a translation layer, so the
 * mapping lives here and nowhere else.
 */
import {
  rfc2822,
  TWILIO_API_VERSION,
  twilioErrorBody,
  twilioErrorCodeOf,
  twilioPrice,
  twilioStatusOf,
} from '../adapters/twilio-format.ts';
import type { Message } from '../db/schema.ts';
import { twilioSid } from '../domain/ids.ts';
import type { ApiError } from './errors.ts';

/** The resource path of an account's messages. */
export function twilioMessagesPath(accountSid: string): string {
  return `/${TWILIO_API_VERSION}/Accounts/${accountSid}/Messages`;
}

/** A message as Twilio's API returns it. */
export function toTwilioMessage(message: Message, accountSid: string, currency: string) {
  const sid = twilioSid(message.id);
  const uri = `${twilioMessagesPath(accountSid)}/${sid}`;
  const handedOver = ['sent', 'delivered', 'undelivered'].includes(message.status);
  const errorCode = twilioErrorCodeOf(message);
  return {
    account_sid: accountSid,
    api_version: TWILIO_API_VERSION,
    body: message.body,
    date_created: rfc2822(message.created_at),
    date_sent: handedOver ? rfc2822(message.updated_at) : null,
    date_updated: rfc2822(message.updated_at),
    direction: 'outbound-api',
    error_code: errorCode,
    error_message: errorCode === null ? null : (message.error_message ?? null),
    from: message.from_sender,
    messaging_service_sid: null,
    num_media: '0',
    num_segments: String(message.segments),
    price: message.price_micros === null ? null : twilioPrice(message.price_micros),
    price_unit: currency,
    sid,
    status: twilioStatusOf(message.status),
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    to: message.to_number,
    uri: `${uri}.json`,
  };
}

/** Herald's error codes with a Twilio counterpart (twilio.com/docs/api/errors). */
const TWILIO_CODES: Readonly<Record<string, number>> = {
  unauthorized: 20003,
  not_found: 20404,
  invalid_phone_number: 21211,
  body_too_long: 21617,
  recipient_opted_out: 21610,
  sender_not_allowed: 21606,
  invalid_callback_url: 21609,
  no_route: 21408,
  // Twilio's "account not active": it refuses to send when the balance is gone.
  insufficient_funds: 20005,
  invalid_request: 20001,
};

/** An ApiError as Twilio answers it: `{ code, message, more_info, status }`. */
export function twilioError(err: ApiError): { status: number; body: ReturnType<typeof twilioErrorBody> } {
  // Otherwise Twilio's HTTP-mirroring codes: 20409 conflict, 20429 too many requests, 20503…
  const code = TWILIO_CODES[err.code] ?? 20_000 + err.status;
  // Twilio answers every refused send with 400, where Herald says 402 or 422.
  const status = err.status === 402 || err.status === 422 ? 400 : err.status;
  return { status, body: twilioErrorBody(status, code, err.message) };
}
