/**
 * Shared machinery of the HTTP carrier simulators: configuration (validated, changeable at run
 * time), seeded fault dice, stats, the receipt poster, and the server with its `/_sim/*` control
 * endpoints (DESIGN §7). A carrier simulator is a `CarrierProfile`: its wire format only.
 */
import { randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { splitSegments } from '../domain/segments.ts';

/** A weight of the fault or receipt dice. */
export const simWeight = z.number().finite().min(0);
/** A delay or duration, whole ms. */
export const simMs = z.number().int().min(0);

/**
 * A strict object of dice weights of which at least one is positive (every simulator's outcome
 * mixes): a mix given in a patch is the whole mix, so a mix of zeros would leave nothing to roll.
 */
export function weightMixSchema<T extends z.ZodRawShape>(shape: T) {
  return z
    .strictObject(shape)
    .refine(
      (m) => Object.values(m).some((w) => typeof w === 'number' && w > 0),
      'at least one weight must be positive',
    );
}

/**
 * Outcome weights of a submit. A mix given in a patch is the whole mix: weights left out are 0.
 * `timeout` and `malformed` still take the message (count it, send its receipt) but never answer
 * properly: the client cannot know whether it went through.
 */
const faultMixSchema = weightMixSchema({
  accept: simWeight.default(0),
  serverError: simWeight.default(0),
  timeout: simWeight.default(0),
  permanent: simWeight.default(0),
  throttle: simWeight.default(0),
  authFail: simWeight.default(0),
  /** Accepted, but the reply is cut off mid-JSON. */
  malformed: simWeight.optional(),
});

/** Receipt outcome weights; like the fault mix, a given mix is the whole mix. */
const receiptMixSchema = weightMixSchema({
  delivered: simWeight.default(0),
  undelivered: simWeight.default(0),
  failed: simWeight.default(0),
  expired: simWeight.default(0),
  none: simWeight.default(0),
});

/** Defaults of the receipt retry schedule: real carriers keep retrying an unanswered receipt for hours. */
export const DEFAULT_RECEIPT_RETRY = { initialMs: 1_000, maxMs: 600_000, forMs: 6 * 3_600_000 } as const;

/**
 * How a receipt the client did not take (non-2xx, refused, timed out) is tried again: after
 * `initialMs`, doubling up to `maxMs` between tries, until `forMs` after the first try; then it
 * counts as failed. A field left out takes its default ({@link DEFAULT_RECEIPT_RETRY}).
 */
const receiptRetrySchema = z.strictObject({
  initialMs: simMs.default(DEFAULT_RECEIPT_RETRY.initialMs),
  maxMs: simMs.default(DEFAULT_RECEIPT_RETRY.maxMs),
  forMs: simMs.default(DEFAULT_RECEIPT_RETRY.forMs),
});

/** A partial config, as `setConfig` and `POST /_sim/config` take it. Unknown keys are refused. */
export const simConfigPatchSchema = z.strictObject({
  mix: faultMixSchema.optional(),
  /** Dead carrier: the port refuses connections (control endpoints too) until `down: false`. */
  down: z.boolean().optional(),
  /** When > 0, a carrier set down comes back by itself after this many ms. Default 0 (stays down). */
  downForMs: simMs.optional(),
  /** Delay before every carrier reply, ms. Default 0. */
  latencyMs: simMs.optional(),
  /** How long the `timeout` fault holds a request before dropping the connection, ms. Default 30 000. */
  timeoutMs: simMs.optional(),
  receipts: receiptMixSchema.optional(),
  /** Delay from acceptance to the receipt post, ms. Default 50. */
  receiptDelayMs: simMs.optional(),
  /** Post the receipt (and wait for its answer) before answering the submit. Default false. */
  receiptBeforeReply: z.boolean().optional(),
  /** Post every receipt twice. Default false. */
  duplicateReceipts: z.boolean().optional(),
  /** Retry schedule of receipts the client did not take. Default: from 1 s, doubling to 10 min, for 6 h. */
  receiptRetry: receiptRetrySchema.optional(),
  /** Price per segment in micro-units, replied in the carrier's own format. Default per carrier. */
  priceMicros: z.number().int().min(0).optional(),
  /** How receipts travel where the carrier offers a choice (Vonage): form POST, JSON POST or GET. */
  receiptFormat: z.enum(['form', 'json', 'get']).optional(),
});
export type SimConfigPatch = z.input<typeof simConfigPatchSchema>;

export type FaultMix = z.output<typeof faultMixSchema>;
export type ReceiptMix = z.output<typeof receiptMixSchema>;
export type FaultKind =
  | 'accept'
  | 'serverError'
  | 'timeout'
  | 'permanent'
  | 'throttle'
  | 'authFail'
  | 'malformed';
export type ReceiptOutcome = 'delivered' | 'undelivered' | 'failed' | 'expired';
export type ReceiptFormat = 'form' | 'json' | 'get';

/** The full, resolved simulator configuration. */
export interface SimConfig {
  readonly mix: FaultMix;
  readonly down: boolean;
  readonly downForMs: number;
  readonly latencyMs: number;
  readonly timeoutMs: number;
  readonly receipts: ReceiptMix;
  readonly receiptDelayMs: number;
  readonly receiptBeforeReply: boolean;
  readonly duplicateReceipts: boolean;
  readonly receiptRetry: { readonly initialMs: number; readonly maxMs: number; readonly forMs: number };
  readonly priceMicros: number;
  readonly receiptFormat: ReceiptFormat;
}

/** The defaults: every submit accepted and delivered. */
export function defaultSimConfig(priceMicros: number): SimConfig {
  return {
    mix: { accept: 1, serverError: 0, timeout: 0, permanent: 0, throttle: 0, authFail: 0, malformed: 0 },
    down: false,
    downForMs: 0,
    latencyMs: 0,
    timeoutMs: 30_000,
    receipts: { delivered: 1, undelivered: 0, failed: 0, expired: 0, none: 0 },
    receiptDelayMs: 50,
    receiptBeforeReply: false,
    duplicateReceipts: false,
    receiptRetry: { ...DEFAULT_RECEIPT_RETRY },
    priceMicros,
    receiptFormat: 'form',
  };
}

/**
 * Validates a partial config with `schema` and applies the fields it sets to `base` (every
 * simulator's patch rule). Throws an Error `invalid <what>: <field>: <problem>; …`.
 */
export function applyConfigPatch<Cfg>(
  schema: z.ZodType<Record<string, unknown>>,
  base: Cfg,
  patch: unknown,
  what: string,
): Cfg {
  const parsed = schema.safeParse(patch ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid ${what}: ${issues}`);
  }
  const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return { ...base, ...defined } as Cfg;
}

/** Validates a patch and applies it. Throws an Error listing the bad fields. */
export function applySimConfigPatch(base: SimConfig, patch: unknown): SimConfig {
  return applyConfigPatch(simConfigPatchSchema, base, patch, 'simulator config');
}

export interface SimStats {
  /** Submit requests received in full (authenticated or not). */
  submissions: number;
  accepted: number;
  rejected: number;
  /** Accepted submissions whose client reference had been accepted before. */
  duplicates: number;
  /** Receipt posts answered 2xx (a duplicated receipt counts twice). */
  receiptsSent: number;
  /** Receipts given up after every retry. */
  receiptsFailed: number;
  /** Inbound-message webhook requests originated by `POST /_sim/inbound` (a duplicate counts twice). */
  inboundSent: number;
  /** Receipts scheduled or being posted right now (a gauge: reset leaves it alone). */
  receiptsPending: number;
  /** Outcome of the dice per submission that passed auth and validation. */
  faults: Record<FaultKind, number>;
  /** Accepted submissions per destination. */
  byTo: Record<string, number>;
}

function emptyStats(): SimStats {
  return {
    submissions: 0,
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    receiptsSent: 0,
    receiptsFailed: 0,
    inboundSent: 0,
    receiptsPending: 0,
    faults: { accept: 0, serverError: 0, timeout: 0, permanent: 0, throttle: 0, authFail: 0, malformed: 0 },
    byTo: {},
  };
}

/** mulberry32: a tiny seeded PRNG, so fault sequences repeat for a given seed. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks a key with probability proportional to its weight (undefined weights count as 0). */
export function pickWeighted<K extends string>(
  rng: () => number,
  weights: Readonly<Partial<Record<K, number>>>,
): K {
  const entries = Object.entries(weights) as Array<[K, number | undefined]>;
  const total = entries.reduce((sum, [, w]) => sum + (w ?? 0), 0);
  let roll = rng() * total;
  let last: K | undefined;
  for (const [k, w] of entries) {
    if (!w) continue;
    last = k;
    if (roll < w) return k;
    roll -= w;
  }
  if (last === undefined) throw new Error('pickWeighted: no positive weight');
  return last;
}

// GSM 03.38 basic set (ESC excluded) and the extension table (two septets each).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

/**
 * Segments a carrier would bill for `text`: GSM-7 (160 / 153 per part) unless `unicode` or a
 * character outside GSM-7 forces UCS-2 (70 / 67 UTF-16 units). The simulator's own rough count,
 * independent of Herald's `domain/segments`.
 */
export function countSegments(text: string, unicode = false): number {
  let septets = 0;
  let gsm = !unicode;
  if (gsm) {
    for (const ch of text) {
      if (GSM_BASIC.has(ch)) septets += 1;
      else if (GSM_EXTENSION.has(ch)) septets += 2;
      else {
        gsm = false;
        break;
      }
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
}

/** An HTTP request the carrier posts to a client (a receipt). */
export interface OutgoingReceipt {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A request to the simulator, body read in full. */
export interface SimRequest {
  readonly method: string;
  /** Parsed against the simulator's own origin. */
  readonly url: URL;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface SimReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What every carrier's validated submission tells the core. */
/** A submission the carrier took: destination, our reference, and the text it received. */
export interface AcceptedSubmission {
  readonly to: string;
  readonly clientRef?: string;
  readonly text?: string;
}

export interface SimSubmission {
  readonly to: string;
  /** Our client's reference (Vonage client-ref, Twilio `mid` of StatusCallback), for duplicates. */
  readonly clientRef?: string | undefined;
  /** Segments the carrier bills for it (for the submission log). Default 1. */
  readonly segments?: number | undefined;
  /** The text as the carrier received it (kept in `acceptedSubmissions` for tests). */
  readonly text?: string | undefined;
}

/** One submission that passed auth and validation: when it arrived and its segments. */
export interface LoggedSubmission {
  /** Epoch ms. */
  readonly at: number;
  readonly segments: number;
}

/**
 * The most segments received within any window of `windowMs` (sliding, both ends inclusive of
 * the window's start) — what a carrier enforcing "N segments per second" would count.
 */
export function maxSegmentsInWindow(log: readonly LoggedSubmission[], windowMs = 1_000): number {
  const sorted = [...log].sort((a, b) => a.at - b.at);
  let max = 0;
  let sum = 0;
  let start = 0;
  for (const entry of sorted) {
    sum += entry.segments;
    while (entry.at - (sorted[start]?.at ?? entry.at) >= windowMs) {
      sum -= sorted[start]?.segments ?? 0;
      start++;
    }
    if (sum > max) max = sum;
  }
  return max;
}

export interface SimAcceptance {
  /** The success reply (its body is also what `malformed` cuts short). */
  readonly reply: SimReply;
  /** The receipt requests for an outcome (Vonage: one per part); empty without a callback URL. */
  receipts(outcome: ReceiptOutcome): OutgoingReceipt[];
}

/** A mobile-originated message a test (or a person at a terminal) asks the carrier to deliver. */
export interface SimInbound {
  /** The mobile number, E.164. */
  readonly from: string;
  /** Our number (E.164) or sender id. */
  readonly to: string;
  readonly text: string;
}

/** `POST /_sim/inbound`: one MO, posted to `url` in the carrier's inbound format. */
export const simInboundSchema = z.strictObject({
  from: z.string().regex(/^\+[1-9]\d{6,14}$/, 'from must be E.164'),
  to: z.string().min(1).max(20),
  text: z.string().max(1600),
  /** The webhook to post to (the carrier console's "inbound URL"). Not used by the SMSC: it writes to its binds. */
  url: z.url().optional(),
  /** Deliver it twice (a carrier's redelivery). Default false. */
  duplicate: z.boolean().default(false),
});

/** One carrier's wire format, plugged into the shared server. */
export interface CarrierProfile<S extends SimSubmission> {
  readonly name: string;
  readonly defaultPriceMicros: number;
  isSubmit(req: SimRequest): boolean;
  /** The carrier's answer to any other path. */
  notFound(req: SimRequest): SimReply;
  /** Credentials and required fields, checked as the real API does. */
  check(
    req: SimRequest,
  ): { readonly ok: true; readonly submission: S } | { readonly ok: false; readonly reply: SimReply };
  fault(kind: 'serverError' | 'permanent' | 'throttle' | 'authFail', submission: S): SimReply;
  accept(submission: S, config: SimConfig): SimAcceptance;
  /** The webhook request(s) that deliver a mobile-originated message (one per part where the carrier splits). */
  inbound(mo: SimInbound, url: string, config: SimConfig): OutgoingReceipt[];
}

/** How any simulator (HTTP carriers and the SMSC) is started: `C` its credentials, `P` its config patch. */
export interface SimBaseOptions<C, P> {
  /** Default 0: a random free port. */
  readonly port?: number;
  /** Default '127.0.0.1'. */
  readonly host?: string;
  readonly credentials: C;
  /** Config at start, validated like a run-time patch. Default: the simulator's defaults. */
  readonly config?: P;
  /** Seed of the fault and receipt dice. Default: random. */
  readonly seed?: number;
}

/** Options of an HTTP carrier simulator. */
export type SimulatorOptions<C> = SimBaseOptions<C, SimConfigPatch>;

/** What a simulator makes of its options before it listens. */
export interface SimStart<Cfg> {
  readonly host: string;
  /** The defaults with `opts.config` applied. */
  readonly config: Cfg;
  /** The fault and receipt dice, seeded with `opts.seed` (or at random). */
  readonly rng: () => number;
}

/** Resolves the options every simulator shares; throws (via `apply`) on a bad start config. */
export function resolveSimStart<Cfg>(
  opts: SimBaseOptions<unknown, unknown>,
  defaults: Cfg,
  apply: (base: Cfg, patch: unknown) => Cfg,
): SimStart<Cfg> {
  return {
    host: opts.host ?? '127.0.0.1',
    config: apply(defaults, opts.config ?? {}),
    rng: mulberry32(opts.seed ?? randomInt(0, 2 ** 31)),
  };
}

/** `http://host:port`, with an IPv6 host in brackets. */
export function simUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export interface RunningSimulator {
  /** `http://host:port`, the carrier's base URL. */
  readonly url: string;
  readonly port: number;
  stats(): SimStats;
  /** Every submission that passed auth and validation since the last reset, in arrival order. */
  submissionLog(): readonly LoggedSubmission[];
  /**
   * Every submission the carrier took (it will deliver it) since the last reset, in arrival order:
   * its destination and our client reference, to find a message sent twice.
   */
  acceptedSubmissions(): readonly AcceptedSubmission[];
  config(): SimConfig;
  /** Applies a partial config (validated; throws on a bad one). */
  setConfig(partial: SimConfigPatch): void;
  /** Zeroes the stats and forgets the client references seen. */
  resetStats(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
const RECEIPT_TIMEOUT_MS = 5_000;
/** How long `POST /_sim/inbound` waits for its requests to be acknowledged. */
export const INBOUND_WAIT_MS = 5_000;

/** True once `done` settles, false after `ms` (its timer cleared either way). */
export async function settledWithin(done: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      done.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts a simulator for one carrier profile on a real socket. */
export async function startSimulator<S extends SimSubmission, C>(
  profile: CarrierProfile<S>,
  opts: SimulatorOptions<C>,
): Promise<RunningSimulator> {
  const initial = resolveSimStart(opts, defaultSimConfig(profile.defaultPriceMicros), applySimConfigPatch);
  const { host, rng } = initial;
  let config = initial.config;
  let stats = emptyStats();
  let seenRefs = new Set<string>();
  let submissionLog: LoggedSubmission[] = [];
  let acceptedLog: AcceptedSubmission[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const aborts = new AbortController();
  let closed = false;
  let listening = false;
  let downTimer: NodeJS.Timeout | undefined;

  const later = (delayMs: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, delayMs);
    timers.add(t);
  };
  const sleep = (delayMs: number): Promise<void> =>
    delayMs <= 0 ? Promise.resolve() : new Promise((resolve) => later(delayMs, resolve));

  /**
   * Posts one receipt, retrying on non-2xx and connection errors on the config's `receiptRetry`
   * schedule (read at each try, so a test may shorten it); true once answered 2xx.
   */
  async function postReceipt(r: OutgoingReceipt): Promise<boolean> {
    const firstTryAt = Date.now();
    for (let attempt = 0; !closed; attempt++) {
      if (attempt > 0) {
        const { initialMs, maxMs, forMs } = config.receiptRetry;
        const waitMs = Math.min(initialMs * 2 ** (attempt - 1), maxMs);
        if (Date.now() + waitMs - firstTryAt > forMs) break;
        await sleep(waitMs);
      }
      if (closed) break;
      try {
        const res = await fetch(r.url, {
          method: r.method,
          headers: r.headers,
          ...(r.body !== undefined ? { body: r.body } : {}),
          signal: AbortSignal.any([aborts.signal, AbortSignal.timeout(RECEIPT_TIMEOUT_MS)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          stats.receiptsSent++;
          return true;
        }
      } catch {
        // connection refused, reset, timeout: retry
      }
    }
    if (!closed) stats.receiptsFailed++;
    return false;
  }

  let pending = 0;
  async function sendReceipts(list: OutgoingReceipt[], duplicate: boolean): Promise<void> {
    try {
      await Promise.all(
        list.map(async (r) => {
          await postReceipt(r);
          if (duplicate) await postReceipt(r);
        }),
      );
    } finally {
      pending--;
    }
  }

  function accept(submission: S, cfg: SimConfig, fault: FaultKind): SimAcceptance {
    stats.accepted++;
    stats.faults[fault]++;
    stats.byTo[submission.to] = (stats.byTo[submission.to] ?? 0) + 1;
    if (submission.clientRef !== undefined) {
      if (seenRefs.has(submission.clientRef)) stats.duplicates++;
      else seenRefs.add(submission.clientRef);
    }
    return profile.accept(submission, cfg);
  }

  /** Rolls the receipt outcome; resolves once receipts are posted when they must precede the reply. */
  async function dispatchReceipts(acceptance: SimAcceptance, cfg: SimConfig): Promise<void> {
    const outcome = pickWeighted(rng, cfg.receipts);
    if (outcome === 'none') return;
    const list = acceptance.receipts(outcome);
    if (list.length === 0) return;
    pending++;
    if (cfg.receiptBeforeReply) {
      await sendReceipts(list, cfg.duplicateReceipts);
      return;
    }
    later(cfg.receiptDelayMs, () => void sendReceipts(list, cfg.duplicateReceipts));
  }

  async function handleCarrier(req: SimRequest, res: http.ServerResponse): Promise<void> {
    const cfg = config;
    if (!profile.isSubmit(req)) return reply(res, profile.notFound(req));
    stats.submissions++;
    const checked = profile.check(req);
    if (!checked.ok) {
      stats.rejected++;
      await sleep(cfg.latencyMs);
      return reply(res, checked.reply);
    }
    submissionLog.push({ at: Date.now(), segments: checked.submission.segments ?? 1 });
    const fault = pickWeighted(rng, cfg.mix);
    if (fault === 'serverError' || fault === 'permanent' || fault === 'throttle' || fault === 'authFail') {
      stats.rejected++;
      stats.faults[fault]++;
      await sleep(cfg.latencyMs);
      return reply(res, profile.fault(fault, checked.submission));
    }
    // From here the carrier has the message, whatever happens to the client's connection.
    const acceptance = accept(checked.submission, cfg, fault);
    const { to, clientRef, text } = checked.submission;
    acceptedLog.push({
      to,
      ...(clientRef === undefined ? {} : { clientRef }),
      ...(text === undefined ? {} : { text }),
    });
    await dispatchReceipts(acceptance, cfg);
    if (fault === 'timeout') {
      const socket = res.socket;
      later(cfg.timeoutMs, () => socket?.destroy());
      return;
    }
    await sleep(cfg.latencyMs);
    if (fault === 'malformed') {
      const body = acceptance.reply.body;
      return reply(res, { ...acceptance.reply, body: body.slice(0, Math.floor(body.length / 2)) });
    }
    return reply(res, acceptance.reply);
  }

  /**
   * `POST /_sim/inbound`: posts an MO to the given webhook (retried like receipts). Answers once
   * every request was answered 2xx, or after {@link INBOUND_WAIT_MS} with `delivered: false`
   * while the retries go on.
   */
  async function originate(raw: string): Promise<{ status: number; body: unknown }> {
    let mo: z.output<typeof simInboundSchema>;
    try {
      mo = simInboundSchema.parse(raw.trim() === '' ? {} : JSON.parse(raw));
    } catch (err) {
      return { status: 400, body: { error: { code: 'invalid_request', message: (err as Error).message } } };
    }
    if (mo.url === undefined) {
      return { status: 400, body: { error: { code: 'invalid_request', message: 'url is required' } } };
    }
    const list = profile.inbound(mo, mo.url, config);
    pending++;
    stats.inboundSent += list.length * (mo.duplicate ? 2 : 1);
    const delivered = await settledWithin(sendReceipts(list, mo.duplicate), INBOUND_WAIT_MS);
    return { status: 200, body: { requests: list.length, delivered } };
  }

  /** The answer of a `/_sim/*` endpoint, and what to do once it is sent. */
  function control(req: SimRequest): { status: number; body: unknown; after?: () => void } {
    const path = req.url.pathname;
    const statsNow = () => ({ ...stats, receiptsPending: pending });
    if (path === '/_sim/config' && req.method === 'GET') return { status: 200, body: config };
    if (path === '/_sim/config' && req.method === 'POST') {
      let next: SimConfig;
      try {
        next = applySimConfigPatch(config, req.body.trim() === '' ? {} : JSON.parse(req.body));
      } catch (err) {
        return { status: 400, body: { error: { code: 'invalid_request', message: (err as Error).message } } };
      }
      // Going down closes this very connection: answer first.
      return { status: 200, body: next, after: () => setConfigResolved(next) };
    }
    if (path === '/_sim/stats' && req.method === 'GET') return { status: 200, body: statsNow() };
    if (path === '/_sim/reset' && req.method === 'POST') {
      resetStats();
      return { status: 200, body: statsNow() };
    }
    return {
      status: 404,
      body: { error: { code: 'not_found', message: `no control endpoint ${req.method} ${path}` } },
    };
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (body === undefined) {
        if (!res.headersSent) reply(res, { status: 413, body: 'request body too large or cut off' });
        return;
      }
      const simReq: SimRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', `http://${host}`),
        headers: req.headers,
        body,
      };
      if (simReq.url.pathname === '/_sim/inbound' && simReq.method === 'POST') {
        const answer = await originate(simReq.body);
        replyJson(res, answer.status, answer.body);
        return;
      }
      if (simReq.url.pathname.startsWith('/_sim/')) {
        const answer = control(simReq);
        if (answer.after) res.once('finish', answer.after);
        replyJson(res, answer.status, answer.body);
        return;
      }
      await handleCarrier(simReq, res);
    })().catch((err: unknown) => {
      if (!res.headersSent) reply(res, { status: 500, body: `simulator error: ${String(err)}` });
    });
  });

  const listen = (port: number): Promise<void> => listenOn(server, port, host);

  await listen(opts.port ?? 0);
  listening = true;
  const port = (server.address() as AddressInfo).port;

  function goDown(): void {
    if (!listening) return;
    listening = false;
    server.close();
    server.closeAllConnections();
  }

  function goUp(): void {
    if (listening || closed) return;
    listening = true;
    listen(port).catch((err: unknown) => {
      listening = false;
      process.stderr.write(`${profile.name} simulator: cannot listen again on ${port}: ${String(err)}\n`);
    });
  }

  function setConfigResolved(next: SimConfig): void {
    const wasDown = config.down;
    config = next;
    if (downTimer) {
      clearTimeout(downTimer);
      downTimer = undefined;
    }
    if (next.down && !wasDown) goDown();
    if (!next.down && wasDown) goUp();
    if (next.down && next.downForMs > 0) {
      downTimer = setTimeout(() => {
        downTimer = undefined;
        setConfigResolved({ ...config, down: false });
      }, next.downForMs);
    }
  }

  function resetStats(): void {
    stats = emptyStats();
    seenRefs = new Set();
    submissionLog = [];
    acceptedLog = [];
  }

  if (config.down) {
    // Started dead: we needed the port first.
    config = { ...config, down: false };
    setConfigResolved({ ...config, down: true });
  }

  return {
    url: simUrl(host, port),
    port,
    stats: () => ({ ...structuredClone(stats), receiptsPending: pending }),
    submissionLog: () => [...submissionLog],
    acceptedSubmissions: () => [...acceptedLog],
    config: () => structuredClone(config),
    setConfig(partial) {
      setConfigResolved(applySimConfigPatch(config, partial));
    },
    resetStats,
    async close() {
      if (closed) return;
      closed = true;
      aborts.abort();
      if (downTimer) clearTimeout(downTimer);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const done = new Promise<void>((resolve) => {
        if (!listening) return resolve();
        server.close(() => resolve());
      });
      listening = false;
      server.closeAllConnections();
      await done;
    },
  };
}

/** Reads a request body; undefined when it is too large or the client went away mid-body. */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(buf);
    }
  } catch {
    return undefined;
  }
  if (!req.complete) return undefined;
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: http.ServerResponse, r: SimReply): void {
  if (res.headersSent || res.destroyed || res.socket?.destroyed) return;
  res.writeHead(r.status, { 'content-length': Buffer.byteLength(r.body), ...r.headers });
  res.end(r.body);
}

function replyJson(res: http.ServerResponse, status: number, body: unknown): void {
  reply(res, { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Current time as "YYMMDDhhmm" (UTC), as DLRs carry it. */
/**
 * A long MO as a carrier that does not reassemble hands it on: its parts (split where a handset
 * splits it) and a concatenation reference shared by them. One part: no reference.
 */
export function inboundParts(text: string): { readonly ref: string; readonly parts: readonly string[] } {
  const parts = text === '' ? [''] : splitSegments(text);
  return { ref: String(randomInt(0, 256)), parts };
}

export function yymmddhhmm(d: Date = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

/** Listens on `port` (0 = random) and settles once bound or refused: shared by every simulator. */
export function listenOn(
  server: {
    once(e: 'error', f: (err: Error) => void): unknown;
    off(e: 'error', f: (err: Error) => void): unknown;
    listen(port: number, host: string, cb: () => void): unknown;
  },
  port: number,
  host: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
