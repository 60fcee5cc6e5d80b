/** Structured logs: JSON lines, redacted fields, masked numbers, the Temporal runtime routed through pino. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../api/log.ts';
import { createLogger, maskPhonesIn, REDACTED } from '../../observability/logger.ts';
import { PinoTemporalLogger } from '../../observability/temporal-logger.ts';

/** A destination that keeps every line. */
function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = (): string => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const NUMBER = '+14155552671';
const BODY = 'Your code is 987654';

describe('logs', () => {
  it('the API logger writes JSON lines with level, time, service and fields', () => {
    const out = capture();
    const log = createJsonLogger('info', out.stream);
    log('info', 'request', { method: 'POST', status: 202, messageId: 'msg_x' });
    log('debug', 'dropped below the level');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'api',
      msg: 'request',
      status: 202,
      messageId: 'msg_x',
    });
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('redacts numbers and bodies by field, and masks numbers anywhere else', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    log.info({ to: NUMBER, body: BODY, message: { to: NUMBER, body: BODY, from: '+4930123456' } }, 'sending');
    log.warn({ error: new Error(`carrier refused ${NUMBER}`) }, `retrying ${NUMBER}`);
    log.info({ note: `deep ${NUMBER}`, when: new Date(0) }, 'ok');
    const text = out.text();
    expect(text).not.toContain(NUMBER);
    expect(text).not.toContain('4155552671');
    expect(text).not.toContain(BODY);
    expect(text).not.toContain('+4930123456');
    const [first, second, third] = out.lines();
    expect(first).toMatchObject({ to: REDACTED, body: REDACTED, message: { to: REDACTED, body: REDACTED } });
    expect(second?.msg).toBe('retrying +1415•••2671');
    expect(JSON.stringify(second?.error)).toContain('+1415•••2671');
    expect(third).toMatchObject({ note: 'deep +1415•••2671', when: '1970-01-01T00:00:00.000Z' });
  });

  it('maskPhonesIn leaves other digits alone', () => {
    expect(maskPhonesIn('order 12345 to +447700900123')).toBe('order 12345 to +4477•••0123');
  });

  it('the Temporal runtime logger goes through the same pino logger', () => {
    const out = capture();
    const logger = new PinoTemporalLogger(
      createLogger({ level: 'debug', service: 'worker', destination: out.stream }),
    );
    logger.info('submit finished', { messageId: 'msg_1', workflowId: 'msg_1', to: NUMBER });
    logger.log('WARN', 'core says', { timestamp: 123n });
    logger.trace('below debug');
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'worker',
      messageId: 'msg_1',
      workflowId: 'msg_1',
      to: REDACTED,
    });
    expect(lines[1]).toMatchObject({ level: 'warn', timestamp: '123' });
  });
});
