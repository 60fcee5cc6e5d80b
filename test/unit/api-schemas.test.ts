import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.ts';
import {
  addCreditBody,
  createAccountBody,
  createMessageBody,
  DEFAULT_PAGE_SIZE,
  idempotencyKeyHeader,
  listMessagesQuery,
} from '../../api/schemas.ts';
import { parseInput } from '../../api/validate.ts';

/** The ApiError parseInput throws for `input`, or fails the test. */
function rejection(schema: Parameters<typeof parseInput>[0], input: unknown, where?: string): ApiError {
  try {
    parseInput(schema, input, where);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('createMessageBody', () => {
  const ok = { to: '+14155550100', body: 'hi' };

  it('accepts the minimal and the full request', () => {
    expect(parseInput(createMessageBody, ok)).toEqual(ok);
    const full = {
      ...ok,
      from: 'Acme 2FA',
      callbackUrl: 'https://example.com/cb?x=1',
      validitySeconds: 259_200,
    };
    expect(parseInput(createMessageBody, full)).toEqual(full);
  });

  it.each([
    ['an unknown field', { ...ok, unknownField: 1 }, 'unknownField'],
    ['an empty body', { ...ok, body: '' }, 'body'],
    ['a blank body', { ...ok, body: '  \n' }, 'body'],
    ['a missing body', { to: ok.to }, 'body'],
    ['a numeric to', { ...ok, to: 14155550100 }, 'to'],
    ['validitySeconds 0', { ...ok, validitySeconds: 0 }, 'validitySeconds'],
    ['validitySeconds over 72 h', { ...ok, validitySeconds: 259_201 }, 'validitySeconds'],
    ['fractional validitySeconds', { ...ok, validitySeconds: 1.5 }, 'validitySeconds'],
    ['a sender of 12 characters', { ...ok, from: 'ABCDEFGHIJKL' }, 'from'],
    ['a sender with punctuation', { ...ok, from: 'Acme!' }, 'from'],
    ['a sender with an outer space', { ...ok, from: ' Acme' }, 'from'],
    ['an ftp callbackUrl', { ...ok, callbackUrl: 'ftp://example.com/cb' }, 'callbackUrl'],
    ['a relative callbackUrl', { ...ok, callbackUrl: '/cb' }, 'callbackUrl'],
  ])('rejects %s with 400 invalid_request naming the field', (_name, input, field) => {
    const err = rejection(createMessageBody, input);
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request');
    expect(err.message).toContain(field);
    expect(err.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('accepts an E.164 sender and rejects a malformed one', () => {
    expect(parseInput(createMessageBody, { ...ok, from: '+447700900123' }).from).toBe('+447700900123');
    expect(rejection(createMessageBody, { ...ok, from: '+0123' }).code).toBe('invalid_request');
  });

  it('rejects a body that is not an object', () => {
    for (const input of [undefined, null, 'text', [ok]]) {
      expect(rejection(createMessageBody, input).status).toBe(400);
    }
  });
});

describe('addCreditBody', () => {
  it.each([
    ['10.00', 10_000_000n],
    ['0.000001', 1n],
    ['25', 25_000_000n],
  ])('parses %s to %d micros', (amount, micros) => {
    expect(parseInput(addCreditBody, { amount })).toEqual({ amount: micros });
  });

  it.each([['-1'], ['0'], ['0.000000'], ['1.0000001'], ['ten'], ['1e3'], [' 1'], [5], [null]])(
    'rejects amount %j naming the field',
    (amount) => {
      const err = rejection(addCreditBody, { amount });
      expect(err.status).toBe(400);
      expect(err.code).toBe('invalid_request');
      expect(err.message).toContain('"amount"');
    },
  );

  it('keeps a reference and rejects unknown fields', () => {
    expect(parseInput(addCreditBody, { amount: '1', reference: 'pay_1' })).toEqual({
      amount: 1_000_000n,
      reference: 'pay_1',
    });
    expect(rejection(addCreditBody, { amount: '1', note: 'x' }).message).toContain('note');
  });
});

describe('createAccountBody', () => {
  it('trims the name and rejects a blank one', () => {
    expect(parseInput(createAccountBody, { name: '  Acme  ' })).toEqual({ name: 'Acme' });
    expect(rejection(createAccountBody, { name: '   ' }).details).toEqual([
      expect.objectContaining({ field: 'name' }),
    ]);
  });
});

describe('listMessagesQuery', () => {
  it('defaults and coerces the limit', () => {
    expect(parseInput(listMessagesQuery, {}, 'query')).toEqual({ limit: DEFAULT_PAGE_SIZE });
    expect(parseInput(listMessagesQuery, { limit: '100', status: 'sent' }, 'query')).toEqual({
      limit: 100,
      status: 'sent',
    });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ limit: '2.5' }, 'limit'],
    [{ status: 'lost' }, 'status'],
    [{ status: ['sent', 'queued'] }, 'status'],
    [{ cursor: '' }, 'cursor'],
    [{ stauts: 'sent' }, 'stauts'],
  ])('rejects %j', (query, field) => {
    const err = rejection(listMessagesQuery, query, 'query');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^query/);
    expect(err.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });
});

describe('idempotencyKeyHeader', () => {
  it('takes 1 to 255 printable ASCII characters', () => {
    expect(parseInput(idempotencyKeyHeader, 'order-42 / retry', 'Idempotency-Key')).toBe('order-42 / retry');
    expect(parseInput(idempotencyKeyHeader, 'k'.repeat(255))).toHaveLength(255);
  });

  it.each([[''], ['k'.repeat(256)], ['tab\there'], ['clé']])('rejects %j', (key) => {
    expect(rejection(idempotencyKeyHeader, key, 'Idempotency-Key header').message).toMatch(
      /^Idempotency-Key header/,
    );
  });
});
