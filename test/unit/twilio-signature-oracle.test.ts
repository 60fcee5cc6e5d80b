/**
 * Herald's Twilio receipt verification against Twilio's own `twilio` npm package as the oracle
 * (issue 10): for every URL shape and form body below, a signature the official validator accepts
 * must be accepted by `verifyTwilioRequest`, and one it refuses refused. The signature is made the
 * way Twilio signs (the official `getExpectedTwilioSignature`) over each URL variant a proxy may show.
 */
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { verifyTwilioRequest } from '../../adapters/twilio.ts';

const TOKEN = 'oracle-auth-token';

/** URL Herald sees → URLs a signature may have been computed over. */
const URLS: ReadonlyArray<readonly [string, readonly string[]]> = [
  [
    'https://herald.example/webhooks/carriers/twilio?mid=msg_1',
    ['https://herald.example:443/webhooks/carriers/twilio?mid=msg_1'],
  ],
  [
    'https://herald.example:443/webhooks/carriers/twilio?mid=msg_1',
    ['https://herald.example/webhooks/carriers/twilio?mid=msg_1'],
  ],
  [
    'https://herald.example:8443/webhooks/carriers/twilio?mid=msg_1',
    ['https://herald.example/webhooks/carriers/twilio?mid=msg_1'],
  ],
  [
    'http://127.0.0.1:3000/webhooks/carriers/twilio?mid=msg_1',
    ['http://127.0.0.1/webhooks/carriers/twilio?mid=msg_1'],
  ],
];

/** Form bodies: plain, with repeated keys (equal and different values), with an empty value. */
const BODIES: readonly string[] = [
  'MessageSid=SM1&MessageStatus=delivered&To=%2B14155550100',
  'MessageSid=SM1&MessageStatus=delivered&Tag=a&Tag=a',
  'MessageSid=SM1&MessageStatus=delivered&Tag=b&Tag=a',
  'MessageSid=SM1&ErrorCode=&MessageStatus=undelivered',
];

/** The body as the official validator takes it: a key with several values becomes an array. */
function oracleParams(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

describe('verifyTwilioRequest agrees with the official twilio package', () => {
  for (const [seen, others] of URLS) {
    for (const signedOver of [seen, ...others]) {
      for (const body of BODIES) {
        it(`${seen} signed over ${signedOver}: ${body}`, () => {
          const params = oracleParams(body);
          const signature = twilio.getExpectedTwilioSignature(TOKEN, signedOver, params);
          const oracle = twilio.validateRequest(TOKEN, signature, seen, params);
          const ours = verifyTwilioRequest(
            {
              method: 'POST',
              url: seen,
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'x-twilio-signature': signature,
              },
              rawBody: body,
            },
            TOKEN,
          );
          expect(ours).toBe(oracle);
          // A forged signature is refused by both.
          expect(twilio.validateRequest('another-token', signature, seen, params)).toBe(false);
        });
      }
    }
  }
});
