import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDecimalMicros, parseDecimalMicros } from '../../adapters/decimal.ts';
import {
  classifyHttpStatus,
  classifyTransportError,
  formEncode,
  parseRetryAfter,
} from '../../adapters/http.ts';

const withCode = (code: string, extra: object = {}) =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(`${code} happened`), { code }, extra) });

describe('classifyTransportError', () => {
  it('our timeout is ambiguous', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyTransportError(timeout, 300)).toMatchObject({ class: 'ambiguous', code: 'timeout' });
  });

  it('refused, DNS and unreachable mean nothing was sent: failover', () => {
    for (const code of [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EHOSTUNREACH',
      'UND_ERR_CONNECT_TIMEOUT',
    ]) {
      expect(classifyTransportError(withCode(code))).toMatchObject({ class: 'failover', carrierCode: code });
    }
  });

  it('finds codes inside an AggregateError (both address families refused)', () => {
    const agg = Object.assign(new AggregateError([withCode('ECONNREFUSED').cause], 'all failed'), {});
    expect(classifyTransportError(new TypeError('fetch failed', { cause: agg })).class).toBe('failover');
  });

  it('a dropped connection is failover only when no request byte was written', () => {
    const before = withCode('UND_ERR_SOCKET', { socket: { bytesWritten: 0, bytesRead: 0 } });
    const after = withCode('UND_ERR_SOCKET', { socket: { bytesWritten: 230, bytesRead: 0 } });
    expect(classifyTransportError(before)).toMatchObject({
      class: 'failover',
      carrierCode: 'UND_ERR_SOCKET',
    });
    expect(classifyTransportError(after)).toMatchObject({ class: 'ambiguous', code: 'connection_lost' });
    expect(classifyTransportError(withCode('ECONNRESET')).class).toBe('ambiguous');
    expect(classifyTransportError('something odd').class).toBe('ambiguous');
  });
});

describe('classifyHttpStatus', () => {
  it('429 and 5xx retry, 401/403 and other 4xx fail over', () => {
    expect(classifyHttpStatus(429, 500)).toMatchObject({
      class: 'retry',
      retryAfterMs: 500,
      carrierCode: 'HTTP 429',
    });
    expect(classifyHttpStatus(503).class).toBe('retry');
    expect(classifyHttpStatus(401).code).toBe('auth_failed');
    expect(classifyHttpStatus(404).class).toBe('failover');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('formEncode', () => {
  it('encodes and skips undefined', () => {
    expect(formEncode({ To: '+1 555', Body: 'a&b=c', Skip: undefined })).toBe('To=%2B1+555&Body=a%26b%3Dc');
  });
});

describe('decimal prices', () => {
  it('parses carrier price strings into micros, truncating', () => {
    expect(parseDecimalMicros('0.03330000')).toBe(33_300n);
    expect(parseDecimalMicros('-0.00790')).toBe(-7_900n);
    expect(parseDecimalMicros('0.12345678')).toBe(123_456n);
    expect(parseDecimalMicros('-0.00000099')).toBe(0n);
    expect(parseDecimalMicros('12')).toBe(12_000_000n);
    for (const bad of ['', '1e-3', '0,5', 'NaN', '.5', '1.'])
      expect(parseDecimalMicros(bad), bad).toBeUndefined();
  });

  it('format then parse is the identity at six places or more', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.integer({ min: 6, max: 10 }),
        (m, places) => {
          expect(parseDecimalMicros(formatDecimalMicros(m, places))).toBe(m);
        },
      ),
    );
  });

  it('formats with the requested places', () => {
    expect(formatDecimalMicros(-7_900n, 5)).toBe('-0.00790');
    expect(formatDecimalMicros(6_500n, 8)).toBe('0.00650000');
  });
});
