import { describe, expect, it } from 'vitest';
import { maskPhone, normalizePhone } from '../../domain/phone.ts';

describe('normalizePhone', () => {
  it.each([
    ['+14155550100', '+14155550100', 'US'],
    ['+1 (415) 555-0100', '+14155550100', 'US'],
    ['  +1.415.555.0100  ', '+14155550100', 'US'],
    ['+14155552671', '+14155552671', 'US'],
    ['+447400123456', '+447400123456', 'GB'],
    ['+44 7400 123456', '+447400123456', 'GB'],
    ['+4915123456789', '+4915123456789', 'DE'],
    ['+49 151 2345 6789', '+4915123456789', 'DE'],
    ['+33612345678', '+33612345678', 'FR'],
  ])('accepts %j as %s in %s', (input, e164, country) => {
    expect(normalizePhone(input)).toEqual({ ok: true, e164, country });
  });

  it('finds the country within a shared calling code', () => {
    // +44 7911 is a Guernsey range, +1 416 is Canada: the country is per number, not per code.
    expect(normalizePhone('+447911123456')).toMatchObject({ ok: true, country: 'GG' });
    expect(normalizePhone('+14165550123')).toMatchObject({ ok: true, country: 'CA' });
  });

  it('accepts national and 00-prefixed numbers only with a default country', () => {
    expect(normalizePhone('004915123456789')).toMatchObject({ ok: false, reason: /international format/ });
    expect(normalizePhone('004915123456789', 'DE')).toEqual({
      ok: true,
      e164: '+4915123456789',
      country: 'DE',
    });
    expect(normalizePhone('0151 23456789', 'de')).toEqual({
      ok: true,
      e164: '+4915123456789',
      country: 'DE',
    });
    expect(normalizePhone('(415) 555-0100', 'US')).toEqual({ ok: true, e164: '+14155550100', country: 'US' });
    expect(normalizePhone('011 49 15123456789', 'US')).toEqual({
      ok: true,
      e164: '+4915123456789',
      country: 'DE',
    });
    // A '+' number ignores the default country.
    expect(normalizePhone('+4915123456789', 'US')).toMatchObject({ ok: true, country: 'DE' });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['abc', /only contain/],
    ['tel:+14155550100', /only contain/],
    ['call +14155550100', /only contain/],
    ['+1 415 555 0100 ext. 5', /only contain/],
    ['+1+4155550100', /only contain/],
    ['+1', /not a phone number|not a valid/],
    ['+1415555010', /not a valid/],
    ['+141555501001', /not a valid/],
    ['+15555550100', /not a valid/], // 555 is not an area code
    ['+447700900123', /not a valid/], // Ofcom's fictional drama range
    ['+80012345678', /non-geographic/],
    [`+${'1'.repeat(80)}`, /too long/],
  ])('rejects %j', (input, reason) => {
    const result = normalizePhone(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('rejects an unknown default country', () => {
    expect(normalizePhone('4155550100', 'XX')).toMatchObject({
      ok: false,
      reason: /unknown default country/,
    });
  });

  it('never puts the full number in a rejection reason', () => {
    const result = normalizePhone('+447700900123');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).not.toContain('7700900123');
  });
});

describe('maskPhone', () => {
  it.each([
    ['+14155550100', '+1415•••0100'],
    ['+4915123456789', '+4915•••6789'],
    ['+4930123456', '+4930•••56'],
    ['+12345678', '+123•••78'],
    ['+123', '+•••'],
    ['', '+•••'],
  ])('masks %j as %j', (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });

  it('always hides at least three digits', () => {
    for (let n = 0; n <= 16; n++) {
      const digits = '9'.repeat(n);
      const shown = maskPhone(`+${digits}`).replace(/\D/g, '').length;
      expect(shown).toBeLessThanOrEqual(Math.max(0, n - 3));
    }
  });
});
