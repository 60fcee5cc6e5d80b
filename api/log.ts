/**
 * The API's logger: a plain function, so the caller decides where lines go (JSON on stdout in
 * production, silence or a spy in tests).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Writes one log line. `fields` must never carry a phone number, a body or a key. */
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

const RANK: Readonly<Record<LogLevel | 'silent', number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 99,
};

/**
 * A logger printing one JSON object per line (`{ time, level, msg, ...fields }`): errors and
 * warnings to stderr, the rest to stdout.
 *
 * @param minLevel - lines below this level are dropped. Default `info`.
 */
export function createJsonLogger(minLevel: LogLevel | 'silent' = 'info'): Logger {
  const min = RANK[minLevel];
  return (level, msg, fields) => {
    if (RANK[level] < min) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, bigintReplacer);
    (RANK[level] >= RANK.warn ? process.stderr : process.stdout).write(`${line}\n`);
  };
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
