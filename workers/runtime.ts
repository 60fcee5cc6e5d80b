import { DefaultLogger, type LogLevel, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

const LEVELS: Record<string, LogLevel> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  silent: 'ERROR',
};

let installed = false;

/**
 * Installs the Temporal runtime's logger at our LOG_LEVEL (the SDK's default INFO narrates every
 * worker state change). Once per process, before the first connection; later calls are no-ops.
 */
export function installWorkerRuntime(level: keyof typeof LEVELS = 'info'): void {
  if (installed) return;
  installed = true;
  const sdkLevel = LEVELS[level] ?? 'INFO';
  Runtime.install({
    logger: new DefaultLogger(sdkLevel),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: sdkLevel }), forward: {} },
    },
  });
}
