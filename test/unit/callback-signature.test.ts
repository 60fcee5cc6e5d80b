import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeHeraldSignature,
  heraldSignatureHeader,
  verifyHeraldSignature,
} from '../../services/callback-signature.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const BODY = '{"eventId":"msg_x.2","status":"queued"}';
const T = 1_790_000_000;
const NOW = T * 1000;

describe('Herald-Signature', () => {
  it('is HMAC-SHA256 over "<t>.<body>", hex, as the README documents', () => {
    // Independent of the module: the algorithm a receiver implements.
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(computeHeraldSignature(SECRET, T, BODY)).toBe(expected);
    expect(heraldSignatureHeader(BODY, [SECRET], T)).toBe(`t=${T},v1=${expected}`);
  });

  it('verifies its own header within the tolerance', () => {
    const header = heraldSignatureHeader(BODY, [SECRET], T);
    expect(verifyHeraldSignature(header, BODY, SECRET, { now: NOW })).toBe(true);
    expect(verifyHeraldSignature(header, BODY, SECRET, { now: NOW + 299_000 })).toBe(true);
    expect(verifyHeraldSignature(header, BODY, SECRET, { now: NOW - 299_000 })).toBe(true);
  });

  it('rejects replays outside the tolerance', () => {
    const header = heraldSignatureHeader(BODY, [SECRET], T);
    expect(verifyHeraldSignature(header, BODY, SECRET, { now: NOW + 301_000 })).toBe(false);
    expect(verifyHeraldSignature(header, BODY, SECRET, { now: NOW - 301_000 })).toBe(false);
    expect(
      verifyHeraldSignature(header, BODY, SECRET, { now: NOW + 3_000_000, toleranceSeconds: 3600 }),
    ).toBe(true);
  });

  it('rejects another secret, a changed body, a changed timestamp and malformed headers', () => {
    const header = heraldSignatureHeader(BODY, [SECRET], T);
    expect(verifyHeraldSignature(header, BODY, 'other-secret', { now: NOW })).toBe(false);
    expect(verifyHeraldSignature(header, `${BODY} `, SECRET, { now: NOW })).toBe(false);
    expect(verifyHeraldSignature(header.replace(`t=${T}`, `t=${T + 1}`), BODY, SECRET, { now: NOW })).toBe(
      false,
    );
    for (const bad of [undefined, '', 'garbage', `t=${T}`, 'v1=abc', `t=x,v1=${'0'.repeat(64)}`]) {
      expect(verifyHeraldSignature(bad, BODY, SECRET, { now: NOW })).toBe(false);
    }
  });

  it('accepts any of several v1 values (rotation grace period)', () => {
    const header = heraldSignatureHeader(BODY, ['new-secret', 'old-secret'], T);
    expect(header.split(',')).toHaveLength(3);
    expect(verifyHeraldSignature(header, BODY, 'new-secret', { now: NOW })).toBe(true);
    expect(verifyHeraldSignature(header, BODY, 'old-secret', { now: NOW })).toBe(true);
    expect(verifyHeraldSignature(header, BODY, 'third-secret', { now: NOW })).toBe(false);
  });

  it('round-trips any body and secret, and any change to the body breaks it', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        (body, secret, extra) => {
          const header = heraldSignatureHeader(body, [secret], T);
          expect(verifyHeraldSignature(header, body, secret, { now: NOW })).toBe(true);
          expect(verifyHeraldSignature(header, body + extra, secret, { now: NOW })).toBe(false);
        },
      ),
    );
  });
});
