/**
 * The API's logger: a plain function, so callers stay independent of the logging library and
 * tests can pass a spy. Production lines are pino JSON (observability/logger.ts), redacted.
 */
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { createLogger, type LogFn } from '../observability/logger.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Writes one log line. `fields` must not carry a key; `to`, `from`, `body` (and the same one
 * level down) are redacted and E.164 numbers anywhere are masked, as a safety net.
 */
export type Logger = LogFn;

/**
 * A logger printing one JSON object per line (`{ level, time, service: "api", msg, ...fields }`)
 * through pino.
 *
 * @param minLevel - lines below this level are dropped. Default `info`.
 * @param destination - where lines go. Default stdout.
 */
export function createJsonLogger(
  minLevel: LogLevel | 'silent' = 'info',
  destination?: DestinationStream,
): Logger {
  return fromPino(createLogger({ level: minLevel, service: 'api', ...(destination ? { destination } : {}) }));
}

/** Wraps a pino logger in the {@link Logger} function shape. */
export function fromPino(pino: PinoLogger): Logger {
  return (level, msg, fields) => {
    pino[level](fields ?? {}, msg);
  };
}
