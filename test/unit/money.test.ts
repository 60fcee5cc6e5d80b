import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatMoney,
  isMoneyString,
  MAX_MICROS,
  MICROS_PER_UNIT,
  MoneyParseError,
  parseMoney,
} from '../../domain/money.ts';

describe('parseMoney', () => {
  it.each([
    ['10', 10_000_000n],
    ['10.5', 10_500_000n],
    ['0.007900', 7_900n],
    ['0.000001', 1n],
    ['0', 0n],
    ['007.25', 7_250_000n],
    ['9223372036854.775807', MAX_MICROS],
  ])('parses %s', (input, expected) => {
    expect(parseMoney(input)).toBe(expected);
  });

  it('accepts negatives only when allowed', () => {
    expect(() => parseMoney('-1.25')).toThrow(/negative/);
    expect(parseMoney('-1.25', { allowNegative: true })).toBe(-1_250_000n);
    expect(parseMoney('-0', { allowNegative: true })).toBe(0n);
  });

  it.each([
    ['', /empty/],
    [' 1', /plain decimal/],
    ['1 ', /plain decimal/],
    ['+1', /plain decimal/],
    ['1e3', /plain decimal/],
    ['1,000.00', /plain decimal/],
    ['1.', /plain decimal/],
    ['.5', /plain decimal/],
    ['--1', /plain decimal/],
    ['0x10', /plain decimal/],
    ['１', /plain decimal/], // full-width digit
    ['NaN', /plain decimal/],
    ['0.0000001', /7 decimal places/],
    ['1.0000000', /7 decimal places/], // trailing zeros are places too: never rounded away
    ['1.1234567', /at most 6/],
    ['9223372036854.775808', /out of range/],
    ['99999999999999', /out of range/],
    ['1'.repeat(100), /out of range/],
  ])('rejects %j', (input, message) => {
    expect(() => parseMoney(input)).toThrow(MoneyParseError);
    expect(() => parseMoney(input)).toThrow(message);
  });

  it('throws an error named MoneyParseError', () => {
    try {
      parseMoney('abc');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MoneyParseError);
      expect((error as Error).name).toBe('MoneyParseError');
    }
  });

  it('rejects more than six decimals, whatever the digits (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 7, maxLength: 20 }),
        (whole, fraction) => {
          expect(() => parseMoney(`${whole}.${fraction}`)).toThrow(/decimal places/);
        },
      ),
    );
  });
});

describe('formatMoney', () => {
  it.each([
    [0n, '0.000000'],
    [7_900n, '0.007900'],
    [1n, '0.000001'],
    [10_000_000n, '10.000000'],
    [-1_250_000n, '-1.250000'],
    [-1n, '-0.000001'],
    [MAX_MICROS, '9223372036854.775807'],
  ])('formats %s as %s', (micros, expected) => {
    expect(formatMoney(micros)).toBe(expected);
  });

  it('round-trips format → parse for every amount in range (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX_MICROS, max: MAX_MICROS }), (m) => {
        const text = formatMoney(m);
        expect(text).toMatch(/^-?\d+\.\d{6}$/);
        expect(parseMoney(text, { allowNegative: true })).toBe(m);
      }),
    );
  });

  it('canonicalizes parse → format (property)', () => {
    const digits = (min: number, max: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    fc.assert(
      fc.property(digits(1, 12), fc.option(digits(1, 6), { nil: undefined }), (whole, fraction) => {
        const input = fraction === undefined ? whole : `${whole}.${fraction}`;
        const canonical = formatMoney(parseMoney(input));
        expect(canonical).toMatch(/^(0|[1-9]\d*)\.\d{6}$/);
        expect(formatMoney(parseMoney(canonical))).toBe(canonical);
        // Same value as exact rational arithmetic on the digits.
        const expected = BigInt(whole) * MICROS_PER_UNIT + BigInt((fraction ?? '').padEnd(6, '0'));
        expect(parseMoney(input)).toBe(expected);
      }),
    );
  });
});

describe('isMoneyString', () => {
  it('tells money strings from the rest', () => {
    expect(isMoneyString('10.00')).toBe(true);
    expect(isMoneyString('-1')).toBe(false);
    expect(isMoneyString('-1', { allowNegative: true })).toBe(true);
    expect(isMoneyString('1.0000001')).toBe(false);
    expect(isMoneyString(10)).toBe(false);
    expect(isMoneyString(undefined)).toBe(false);
  });
});
