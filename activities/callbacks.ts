/**
 * Status callback delivery (the activities of workflows/deliver-callbacks.ts) and the hook the
 * other activities call after a status transition.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { twilioSignature } from '../adapters/twilio.ts';
import { twilioErrorCodeOf, twilioStatusOf, twilioStatusParams } from '../adapters/twilio-format.ts';
import { DEFAULT_CALLBACK_RETRY_INITIAL_MS, DEFAULT_CALLBACK_TIMEOUT_MS } from '../config/defaults.ts';
import {
  type CallbackTarget,
  getCallbackTarget,
  isCallbackSettled,
  recordCallbackAttempt,
} from '../db/callbacks.ts';
import type { Message } from '../db/schema.ts';
import { twilioSid } from '../domain/ids.ts';
import { postToPinnedAddress } from '../services/callback-http.ts';
import { EVENT_ID_HEADER, heraldSignatureHeader, SIGNATURE_HEADER } from '../services/callback-signature.ts';
import { checkCallbackUrl, type HostLookup } from '../services/ssrf.ts';
import type { CallbackEvent } from '../workflows/callback-definitions.ts';
import type { ActivityDeps } from './deps.ts';

/** Defaults of {@link CallbackDeps}. */
export const CALLBACK_DEFAULTS = {
  retryInitialMs: DEFAULT_CALLBACK_RETRY_INITIAL_MS,
  retryMaximumMs: 3_600_000,
  giveUpAfterMs: 24 * 3_600_000,
  requestTimeoutMs: DEFAULT_CALLBACK_TIMEOUT_MS,
} as const;

/** What status callbacks need from the worker. */
export interface CallbackDeps {
  /** Feeds a message that just changed status to its callback workflow (signal-with-start). */
  readonly queue: (message: Message | undefined) => Promise<void>;
  /** Hosts, addresses or CIDR ranges exempt from the SSRF check. Default none. */
  readonly allowedHosts?: readonly string[];
  /** First retry delay of a failed callback; doubles per attempt. Default 1000 ms. */
  readonly retryInitialMs?: number;
  /** Longest delay between attempts. Default 1 h. */
  readonly retryMaximumMs?: number;
  /** An event not delivered within this time is given up. Default 24 h. */
  readonly giveUpAfterMs?: number;
  /** Per request. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** DNS resolution for the SSRF check (tests). Default `dns.lookup`. */
  readonly lookup?: HostLookup;
}

/** Retry settings the callback workflow reads once per run (a local activity, so replay-safe). */
export interface CallbackSettings {
  readonly retryInitialMs: number;
  readonly retryMaximumMs: number;
  readonly giveUpAfterMs: number;
  readonly requestTimeoutMs: number;
}

/** What came of delivering one event (a `failed` attempt throws instead, so Temporal retries). */
export interface DeliverCallbackResult {
  readonly outcome: 'delivered' | 'gone' | 'refused' | 'skipped';
}

/** Longest receiver-requested `Retry-After` honoured. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * After a transition: queue callbacks for the message. Best effort (`mustSucceed: false`) logs a
 * failure and goes on — the next transition's signal carries this event too; with
 * `mustSucceed` (the final status) the failure is thrown so the activity is retried.
 */
export async function afterTransition(
  deps: ActivityDeps,
  message: Message | undefined,
  opts: { readonly mustSucceed: boolean },
): Promise<void> {
  if (!deps.callbacks || !message?.callback_url) return;
  try {
    await deps.callbacks.queue(message);
  } catch (err) {
    if (opts.mustSucceed) throw err;
    Context.current().log.warn('could not queue status callbacks; the next status change will', {
      messageId: message.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/** The retry settings of a worker's callbacks (status callbacks and inbound forwarding). */
export function callbackSettingsOf(callbacks: CallbackDeps | undefined): CallbackSettings {
  return {
    retryInitialMs: callbacks?.retryInitialMs ?? CALLBACK_DEFAULTS.retryInitialMs,
    retryMaximumMs: callbacks?.retryMaximumMs ?? CALLBACK_DEFAULTS.retryMaximumMs,
    giveUpAfterMs: callbacks?.giveUpAfterMs ?? CALLBACK_DEFAULTS.giveUpAfterMs,
    requestTimeoutMs: callbacks?.requestTimeoutMs ?? CALLBACK_DEFAULTS.requestTimeoutMs,
  };
}

/** One signed POST: where, what, and the worker's settings. */
export interface SignedPost {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly allowedHosts: readonly string[];
  readonly settings: CallbackSettings;
  readonly lookup?: HostLookup;
}

/** Writes down one attempt's outcome (status callbacks and inbound forwarding keep their own rows). */
export type RecordAttempt = (
  outcome: 'delivered' | 'failed' | 'gone' | 'refused',
  httpStatus: number | null,
  error?: string,
) => Promise<void>;

/**
 * POSTs a signed callback: re-checks the URL against SSRF rules and connects to the checked
 * address. Returns for a final answer (2xx, 410 Gone, refused URL); throws a retryable failure
 * for anything else, honouring Retry-After. Each attempt is recorded first.
 */
export async function postCallback(
  post: SignedPost,
  record: RecordAttempt,
): Promise<'delivered' | 'gone' | 'refused'> {
  const checked = await checkCallbackUrl(post.url, {
    allowedHosts: post.allowedHosts,
    ...(post.lookup ? { lookup: post.lookup } : {}),
  });
  if (!checked.ok) {
    await record('refused', null, checked.reason);
    return 'refused';
  }
  const address = checked.addresses[0];
  if (!address) throw ApplicationFailure.retryable('callback host has no address', 'CallbackNetworkError');
  let response: Awaited<ReturnType<typeof postToPinnedAddress>>;
  try {
    response = await postToPinnedAddress(
      checked.url,
      address,
      post.body,
      post.headers,
      post.settings.requestTimeoutMs,
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await record('failed', null, message);
    throw ApplicationFailure.retryable(`callback request failed: ${message}`, 'CallbackNetworkError');
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    await record('delivered', status);
    return 'delivered';
  }
  if (status === 410) {
    await record('gone', status, 'receiver answered 410 Gone: no more callbacks for this message');
    return 'gone';
  }
  await record('failed', status, `receiver answered ${status}`);
  throw ApplicationFailure.create({
    message: `callback receiver answered ${status}`,
    type: 'CallbackHttpError',
    ...(response.retryAfterMs === undefined
      ? {}
      : { nextRetryDelay: Math.min(response.retryAfterMs, MAX_RETRY_AFTER_MS) }),
  });
}

/** {@link postCallback} with the worker's settings (allow-list, timeouts, DNS) filled in. */
export function callbackPoster(callbacks: CallbackDeps | undefined) {
  const base = {
    allowedHosts: callbacks?.allowedHosts ?? [],
    settings: callbackSettingsOf(callbacks),
    ...(callbacks?.lookup ? { lookup: callbacks.lookup } : {}),
  };
  return (
    post: Pick<SignedPost, 'url' | 'body' | 'headers'>,
    record: RecordAttempt,
  ): Promise<'delivered' | 'gone' | 'refused'> => postCallback({ ...base, ...post }, record);
}

/** A Herald callback: the JSON body, `Herald-Signature` and `Herald-Event-Id`. */
export function heraldSignedJson(
  payload: unknown,
  eventId: string,
  secrets: readonly string[],
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Herald-Callbacks/1',
      [SIGNATURE_HEADER]: heraldSignatureHeader(body, secrets, Date.now() / 1000),
      [EVENT_ID_HEADER]: eventId,
    },
  };
}

/** A Twilio-style callback: a form post signed with `X-Twilio-Signature` under the account's auth token. */
export function twilioSignedForm(
  url: string,
  params: ReadonlyArray<readonly [string, string]>,
  authToken: string,
): { body: string; headers: Record<string, string> } {
  return {
    body: new URLSearchParams(params.map(([k, v]): [string, string] => [k, v])).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Herald-Callbacks/1',
      'x-twilio-signature': twilioSignature(url, params, authToken),
    },
  };
}

/** Twilio's status-callback fields for one event of a message sent through the Twilio-compatible API. */
function twilioStatusCallback(
  url: string,
  event: CallbackEvent,
  twilio: NonNullable<CallbackTarget['twilio']>,
) {
  const errorCode = twilioErrorCodeOf({
    status: event.status,
    error_code: event.error?.code ?? null,
    carrier_error_code: event.error?.carrierCode ?? null,
  });
  const params = twilioStatusParams({
    sid: twilioSid(event.messageId),
    accountSid: twilio.accountSid,
    from: twilio.from,
    to: twilio.to,
    status: twilioStatusOf(event.status),
    ...(errorCode !== null && event.error !== null ? { errorCode: String(errorCode) } : {}),
  });
  return twilioSignedForm(url, params, twilio.authToken);
}

export function createCallbackActivities({ db, callbacks }: ActivityDeps) {
  const settings = callbackSettingsOf(callbacks);
  const post = callbackPoster(callbacks);
  return {
    async callbackSettings(): Promise<CallbackSettings> {
      return settings;
    },

    /**
     * POSTs one signed event to the message's callback URL. Re-checks the URL against SSRF rules
     * and connects to the checked address. Returns for a final answer (2xx, 410 Gone, refused
     * URL, nothing to do); throws a retryable failure for anything else, honouring Retry-After.
     */
    async deliverCallback(event: CallbackEvent): Promise<DeliverCallbackResult> {
      const target = await getCallbackTarget(db, event.messageId);
      if (!target) return { outcome: 'skipped' };
      if (await isCallbackSettled(db, event.messageId, event.eventId)) return { outcome: 'skipped' };
      const attempt = Context.current().info.attempt;
      const { body, headers } = target.twilio
        ? twilioStatusCallback(target.callbackUrl, event, target.twilio)
        : heraldSignedJson(event, event.eventId, target.secrets);
      const outcome = await post({ url: target.callbackUrl, body, headers }, (outcome, httpStatus, error) =>
        recordCallbackAttempt(db, {
          messageId: event.messageId,
          eventId: event.eventId,
          status: event.status,
          attempt,
          outcome,
          httpStatus,
          error: error ?? null,
        }),
      );
      return { outcome };
    },

    /** Records that an event was given up (retries exhausted). */
    async abandonCallback(input: { readonly event: CallbackEvent; readonly reason: string }): Promise<void> {
      await recordCallbackAttempt(db, {
        messageId: input.event.messageId,
        eventId: input.event.eventId,
        status: input.event.status,
        attempt: null,
        outcome: 'abandoned',
        error: input.reason,
      });
    },
  };
}
