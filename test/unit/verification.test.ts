import { describe, expect, it } from 'vitest';
import { analyzeBody } from '../../domain/segments.ts';
import {
  constantTimeEqual,
  isWellFormedCode,
  renderMaskedBody,
  VERIFICATION_LOCALES,
  verificationTemplate,
  withCode,
} from '../../domain/verification.ts';
import { checkProof, deriveCode, expectedProof } from '../../services/verification-codes.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters';

describe('verification codes', () => {
  it('derives the same code for the same id, a different one for another id or secret', () => {
    const a = deriveCode(SECRET, 'ver_a', 6);
    expect(a).toMatch(/^\d{6}$/);
    expect(deriveCode(SECRET, 'ver_a', 6)).toBe(a);
    const others = new Set(Array.from({ length: 50 }, (_, i) => deriveCode(SECRET, `ver_${i}`, 6)));
    expect(others.size).toBeGreaterThan(45);
    expect(deriveCode(`${SECRET}!`, 'ver_a', 6)).not.toBe(a);
  });

  it('keeps leading zeros and honours every length from 4 to 10', () => {
    for (let length = 4; length <= 10; length++) {
      const codes = Array.from({ length: 200 }, (_, i) => deriveCode(SECRET, `ver_${i}`, length));
      expect(codes.every((c) => c.length === length && /^\d+$/.test(c))).toBe(true);
    }
    const fours = Array.from({ length: 2000 }, (_, i) => deriveCode(SECRET, `v${i}`, 4));
    expect(fours.some((c) => c.startsWith('0'))).toBe(true);
  });

  it('a check proves the right code and no other, without carrying it', () => {
    const code = deriveCode(SECRET, 'ver_a', 6);
    const proof = checkProof(SECRET, 'ver_a', code);
    expect(proof).toMatch(/^[0-9a-f]{64}$/);
    expect(proof).not.toContain(code);
    expect(constantTimeEqual(proof, expectedProof(SECRET, 'ver_a', 6))).toBe(true);
    const wrong = code === '000000' ? '000001' : '000000';
    expect(constantTimeEqual(checkProof(SECRET, 'ver_a', wrong), expectedProof(SECRET, 'ver_a', 6))).toBe(
      false,
    );
    expect(constantTimeEqual('', '')).toBe(false);
    expect(constantTimeEqual('ab', 'abc')).toBe(false);
  });
});

describe('masked bodies', () => {
  it('masks the code where the template puts it and puts the code back only there', () => {
    const masked = renderMaskedBody('{{appName}}: {{code}} is your code', 'Acme', 6);
    expect(masked.body).toBe('Acme: ****** is your code');
    expect(withCode(masked, '012345')).toBe('Acme: 012345 is your code');
    expect(() => withCode(masked, '12345')).toThrow(TypeError);
    expect(() => withCode({ ...masked, codeOffset: 0 }, '012345')).toThrow(TypeError);
  });

  it('has a template for every locale, and the code does not change the encoding or the segments', () => {
    for (const locale of VERIFICATION_LOCALES) {
      for (const appName of [null, 'Acme']) {
        const template = verificationTemplate({ locale, appName });
        expect(template).toContain('{{code}}');
        const masked = renderMaskedBody(template, appName, 8);
        const sent = withCode(masked, '98765432');
        expect(analyzeBody(sent)).toEqual(analyzeBody(masked.body));
        if (appName) expect(sent).toContain(appName);
      }
    }
    expect(verificationTemplate({ locale: 'fr', template: 'Code {{code}}' })).toBe('Code {{code}}');
  });

  it('accepts only digits of the verification’s length', () => {
    expect(isWellFormedCode('123456', 6)).toBe(true);
    expect(isWellFormedCode('12345', 6)).toBe(false);
    expect(isWellFormedCode('12345a', 6)).toBe(false);
    expect(isWellFormedCode('١٢٣٤٥٦', 6)).toBe(false);
  });
});
