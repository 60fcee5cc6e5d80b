/**
 * Herald's structured logs: one JSON object per line through pino, shared by the API, the worker
 * and the Temporal runtime. Phone numbers and message bodies never reach a line in clear: known
 * fields are redacted by path, and anything that looks like an E.164 number in any string is
 * masked with {@link maskPhone}.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { maskPhone } from '../domain/phone.ts';

/** Levels Herald logs at (pino's names), plus `silent`. */
export type HeraldLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * A log line as a plain function, so callers stay independent of the logging library and tests
 * can pass a spy. `fields` never carries a phone number or a body (redacted anyway, as a safety net).
 */
export type LogFn = (
  level: Exclude<HeraldLogLevel, 'silent'>,
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/**
 * Fields that may carry a recipient, a sender number, a body or a secret, at the top level and
 * one level down (carrier payloads use `To`/`Body`, Vonage `text`).
 */
export const REDACT_KEYS = [
  'to',
  'from',
  'body',
  'text',
  'To',
  'From',
  'Body',
  'authorization',
  'apiKey',
  'secret',
] as const;

export const REDACT_PATHS: readonly string[] = REDACT_KEYS.flatMap((k) => [k, `*.${k}`]);

/** What replaces a redacted field. */
export const REDACTED = '[redacted]';

/** E.164-looking runs: `+` and 7–15 digits. */
const E164_IN_TEXT = /\+[1-9]\d{6,14}/g;

/** Masks every E.164-looking number in `text`. */
export function maskPhonesIn(text: string): string {
  return text.replace(E164_IN_TEXT, (n) => maskPhone(n));
}

export interface CreateLoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  readonly level?: HeraldLogLevel;
  /** `service` field on every line, e.g. `api` or `worker`. Default none. */
  readonly service?: string;
  /** Where lines go. Default stdout. */
  readonly destination?: DestinationStream;
}

/** A pino logger with Herald's redaction, ISO times and level names (`"level":"info"`). */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: opts.service ? { service: opts.service } : null,
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    formatters: {
      level: (label) => ({ level: label }),
      log: (fields) => scrub(fields, 3) as Record<string, unknown>,
    },
    hooks: {
      // The message text is not covered by `formatters.log`.
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? maskPhonesIn(a) : a)) as Parameters<typeof method>,
        );
      },
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** Masks numbers in string values, a few levels deep (errors become `{ type, message, stack }`). */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskPhonesIn(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskPhonesIn(value.message), stack: maskPhonesIn(value.stack ?? '') };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth - 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // Date, Buffer, Map …: as pino shows them
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth - 1);
  return out;
}
