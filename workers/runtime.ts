import { type Logger, type LogLevel, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { createLogger, type HeraldLogLevel } from '../observability/logger.ts';
import { PinoTemporalLogger } from '../observability/temporal-logger.ts';

const LEVELS: Readonly<Record<HeraldLogLevel, LogLevel>> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  silent: 'ERROR',
};

/** Options of {@link installWorkerRuntime}. */
export interface WorkerRuntimeOptions {
  /**
   * Where the runtime's logs go (SDK, core, activity `Context.log`, workflow `log`). Default:
   * Herald's pino JSON lines on stdout (`service: "worker"`) at the given level.
   */
  readonly logger?: Logger;
  /**
   * `host:port` the runtime's own Prometheus exporter binds (`/metrics`: workflow and activity task
   * latencies, poller counts, cache …). Default none: the runtime exports no metrics.
   */
  readonly prometheusBindAddress?: string;
}

let installed = false;

/**
 * Installs the Temporal runtime once per process, before the first connection: its logger at our
 * LOG_LEVEL through pino (the SDK's default INFO narrates every worker state change) and,
 * optionally, its Prometheus exporter. Later calls are no-ops and return false.
 */
export function installWorkerRuntime(
  level: HeraldLogLevel = 'info',
  opts: WorkerRuntimeOptions = {},
): boolean {
  if (installed) return false;
  installed = true;
  const sdkLevel = LEVELS[level];
  Runtime.install({
    logger: opts.logger ?? new PinoTemporalLogger(createLogger({ level, service: 'worker' })),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: sdkLevel }), forward: {} },
      ...(opts.prometheusBindAddress
        ? { metrics: { prometheus: { bindAddress: opts.prometheusBindAddress, countersTotalSuffix: true } } }
        : {}),
    },
  });
  return true;
}
