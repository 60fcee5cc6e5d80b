/**
 * The Temporal runtime's logger backed by pino: SDK messages, activity `Context.log` (with
 * workflowId, activityType …) and workflow `log` (through the runtime's sink) all become Herald's
 * JSON lines, redacted like the rest.
 */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger as PinoLogger } from 'pino';

const PINO_METHOD: Readonly<Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'>> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's warning for a worker registered with activities only (every carrier queue's). */
const NO_WORKFLOWS_WARNING = 'No workflows registered, not polling for workflow tasks';

/** Adapts a pino logger to Temporal's Logger interface. */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly pino: PinoLogger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    // Carrier queues run activities only, by design: the SDK's warning about it is not news.
    const effective = level === 'WARN' && message.startsWith(NO_WORKFLOWS_WARNING) ? 'DEBUG' : level;
    this.pino[PINO_METHOD[effective] ?? 'info'](withoutBigints(meta), message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** Core's forwarded logs carry a bigint timestamp; JSON has no bigint. */
function withoutBigints(meta: LogMetadata | undefined): Record<string, unknown> {
  if (!meta) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) out[k] = typeof v === 'bigint' ? v.toString() : v;
  return out;
}
