import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isAccountId,
  isMessageId,
  messageIdFromIdempotencyKey,
  newAccountId,
  newMessageId,
} from '../../domain/ids.ts';
import { sha256, sha256Hex, utf8Encode } from '../../domain/sha256.ts';

describe('sha256', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
    [
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    ],
    ['a'.repeat(1_000_000), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
  ])('matches the FIPS 180 vector for %#', (input, hex) => {
    expect(sha256Hex(input)).toBe(hex);
  });

  it('agrees with node:crypto on arbitrary bytes, including every padding boundary (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const expected = createHash('sha256').update(bytes).digest();
        expect(Buffer.from(sha256(bytes))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
    for (let n = 50; n < 140; n++) {
      const bytes = new Uint8Array(n).fill(n);
      expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('encodes UTF-8 as TextEncoder does, lone surrogates included (property)', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => {
        expect(utf8Encode(s)).toEqual(encoder.encode(s));
      }),
    );
    expect(utf8Encode('\ud800x')).toEqual(encoder.encode('\ud800x'));
  });
});

describe('message and account ids', () => {
  it('derives the same message id for the same account and key, and a different one otherwise', () => {
    const id = messageIdFromIdempotencyKey('acc_1', 'order-42');
    expect(id).toMatch(/^msg_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(isMessageId(id)).toBe(true);
    expect(messageIdFromIdempotencyKey('acc_1', 'order-42')).toBe(id);
    expect(messageIdFromIdempotencyKey('acc_2', 'order-42')).not.toBe(id);
    expect(messageIdFromIdempotencyKey('acc_1', 'order-43')).not.toBe(id);
  });

  it('pins the derivation, so API and workflows built at different times agree', () => {
    // Golden value (checked against Python's hashlib): changing the hash input or the alphabet
    // would orphan existing messages from their idempotency keys.
    expect(messageIdFromIdempotencyKey('acc_test', 'key-1')).toBe('msg_f3z6gse0kja0qfb0gwm0vkwarw');
  });

  it('does not confuse where the account ends and the key begins', () => {
    expect(messageIdFromIdempotencyKey('acc_1', ':x')).not.toBe(messageIdFromIdempotencyKey('acc_1:', 'x'));
    expect(messageIdFromIdempotencyKey('a', 'bc')).not.toBe(messageIdFromIdempotencyKey('ab', 'c'));
  });

  it('is collision-free over many distinct keys (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 2, maxLength: 50 }), (keys) => {
        const ids = new Set(keys.map((k) => messageIdFromIdempotencyKey('acc_x', k)));
        expect(ids.size).toBe(keys.length);
      }),
    );
  });

  it('builds random ids from caller-supplied bytes', () => {
    const zeros = new Uint8Array(16);
    expect(newMessageId(zeros)).toBe(`msg_${'0'.repeat(26)}`);
    expect(newAccountId(new Uint8Array(16).fill(0xff))).toBe(`acc_${'z'.repeat(25)}w`);
    const bytes = randomBytes(16);
    expect(newMessageId(bytes)).toBe(newMessageId(bytes));
    expect(isMessageId(newMessageId(randomBytes(16)))).toBe(true);
    expect(isAccountId(newAccountId(randomBytes(32)))).toBe(true);
    expect(isAccountId(newMessageId(bytes))).toBe(false);
  });

  it('rejects too little randomness', () => {
    expect(() => newMessageId(new Uint8Array(15))).toThrow(RangeError);
    expect(() => newAccountId(new Uint8Array(0))).toThrow(/at least 16/);
  });

  it('encodes every bit of the 128 random bits (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 127 }),
        (b, bit) => {
          const flipped = Uint8Array.from(b);
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          expect(newMessageId(flipped)).not.toBe(newMessageId(b));
        },
      ),
    );
  });

  it('validates id shapes', () => {
    expect(isMessageId(`msg_${'a'.repeat(26)}`)).toBe(true);
    expect(isMessageId(`msg_${'a'.repeat(25)}`)).toBe(false);
    expect(isMessageId(`msg_${'i'.repeat(26)}`)).toBe(false);
    expect(isMessageId(`msg_${'A'.repeat(26)}`)).toBe(false);
    expect(isAccountId(`acc_${'0'.repeat(26)}`)).toBe(true);
  });
});
