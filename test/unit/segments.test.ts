import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeBody,
  GSM7_BASIC,
  GSM7_EXTENSION,
  isGsm7,
  MAX_BODY_CHARS,
  splitSegments,
} from '../../domain/segments.ts';

const basicChars = [...GSM7_BASIC];
const extChars = [...GSM7_EXTENSION];
const gsmBasic = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...basicChars), minLength: min, maxLength: max });
const gsmAny = (max: number) =>
  fc.string({ unit: fc.constantFrom(...basicChars, ...extChars), minLength: 1, maxLength: max });
// Any text: BMP, astral (emoji) and lone surrogates.
const anyText = fc.string({ unit: 'binary', minLength: 1, maxLength: 600 });
const mixed = fc.string({
  unit: fc.oneof(fc.constantFrom(...basicChars, ...extChars), fc.constantFrom('é', 'ж', '中', '😀', '👍🏽')),
  minLength: 1,
  maxLength: 600,
});

describe('GSM 03.38 tables', () => {
  it('has 127 basic characters (ESC excluded) and 10 extension characters', () => {
    expect(GSM7_BASIC.size).toBe(127);
    expect(GSM7_EXTENSION.size).toBe(10);
    for (const ch of ['@', '£', '\n', '\r', 'Δ', 'Ξ', 'Ç', 'ß', '¤', '¡', '§', '¿', 'à', 'ü']) {
      expect(GSM7_BASIC.has(ch), ch).toBe(true);
    }
    for (const ch of ['\u001b', '`', 'ç', '\t', '€']) {
      expect(GSM7_BASIC.has(ch), ch).toBe(false);
    }
    expect(extChars.sort()).toEqual(['\f', '[', '\\', ']', '^', '{', '|', '}', '~', '€'].sort());
  });

  it('uses Greek capitals, not their Latin look-alikes', () => {
    expect(isGsm7('ΔΦΓΛΩΠΨΣΘΞ')).toBe(true);
    expect(isGsm7('Α')).toBe(false); // Greek Alpha is not in the table (Latin A is)
    expect(isGsm7('A')).toBe(true);
  });
});

describe('analyzeBody', () => {
  it.each([
    ['Your code is 123456', 'GSM-7', 1, 19],
    ['a'.repeat(160), 'GSM-7', 1, 160],
    ['a'.repeat(161), 'GSM-7', 2, 161],
    ['a'.repeat(306), 'GSM-7', 2, 306],
    ['a'.repeat(307), 'GSM-7', 3, 307],
    ['€'.repeat(80), 'GSM-7', 1, 160],
    [`${'a'.repeat(159)}€`, 'GSM-7', 2, 161],
    ['Price: 5€ {ok}', 'GSM-7', 1, 17],
    ['ж'.repeat(70), 'UCS-2', 1, 70],
    ['ж'.repeat(71), 'UCS-2', 2, 71],
    ['ж'.repeat(134), 'UCS-2', 2, 134],
    ['ж'.repeat(135), 'UCS-2', 3, 135],
    ['😀'.repeat(35), 'UCS-2', 1, 70],
    ['Hi 😀', 'UCS-2', 1, 5],
    ['`', 'UCS-2', 1, 1],
    ['ç', 'UCS-2', 1, 1],
    ['\u001b', 'UCS-2', 1, 1],
  ] as const)('%j → %s, %i segment(s), %i units', (body, encoding, segments, units) => {
    expect(analyzeBody(body)).toEqual({ encoding, segments, units });
    expect(splitSegments(body)).toHaveLength(segments);
  });

  it('treats an empty body as one empty GSM-7 segment', () => {
    expect(analyzeBody('')).toEqual({ encoding: 'GSM-7', segments: 1, units: 0 });
    expect(splitSegments('')).toEqual(['']);
  });

  it('keeps an extension character whole across a part boundary', () => {
    // 152 septets then '€' (2 septets): the escape and the char move to the next part together.
    const body = `${'a'.repeat(152)}€${'b'.repeat(10)}`;
    const parts = splitSegments(body);
    expect(parts).toEqual(['a'.repeat(152), `€${'b'.repeat(10)}`]);
    expect(analyzeBody(body).segments).toBe(2);
  });

  it('keeps a surrogate pair whole across a part boundary', () => {
    const body = `${'ж'.repeat(66)}😀${'ж'.repeat(10)}`;
    expect(splitSegments(body)).toEqual(['ж'.repeat(66), `😀${'ж'.repeat(10)}`]);
    expect(analyzeBody(body)).toEqual({ encoding: 'UCS-2', segments: 2, units: 78 });
  });

  it('fits MAX_BODY_CHARS of GSM-7 into 11 parts and says so', () => {
    expect(MAX_BODY_CHARS).toBe(1600);
    expect(analyzeBody('a'.repeat(MAX_BODY_CHARS)).segments).toBe(11);
    expect(analyzeBody('a'.repeat(1530)).segments).toBe(10);
  });
});

describe('segment properties', () => {
  it('non-empty bodies have at least one segment, and the count matches splitSegments', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, mixed, gsmAny(700)), (body) => {
        const { segments } = analyzeBody(body);
        expect(segments).toBeGreaterThanOrEqual(1);
        expect(splitSegments(body)).toHaveLength(segments);
      }),
      { numRuns: 300 },
    );
  });

  it('joining the parts gives the body back, and each part fits its budget', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, mixed, gsmAny(700)), (body) => {
        const parts = splitSegments(body);
        expect(parts.join('')).toBe(body);
        const { encoding } = analyzeBody(body);
        const multi = parts.length > 1;
        for (const [i, part] of parts.entries()) {
          const size = analyzeBody(part).units;
          if (encoding === 'GSM-7') expect(size).toBeLessThanOrEqual(multi ? 153 : 160);
          else expect(part.length).toBeLessThanOrEqual(multi ? 67 : 70);
          if (multi) expect(part.length).toBeGreaterThan(0);
          // A part boundary never falls between the halves of a surrogate pair.
          if (i > 0) {
            const prev = parts[i - 1]!;
            const pair = prev.slice(-1) + part.slice(0, 1);
            expect([...pair]).toHaveLength(2);
          }
        }
        // Greedy packing: no part could have taken the next part's first character.
        for (let i = 0; i + 1 < parts.length; i++) {
          const next = [...parts[i + 1]!][0]!;
          const weight = encoding === 'GSM-7' ? (GSM7_EXTENSION.has(next) ? 2 : 1) : next.length;
          const used = encoding === 'GSM-7' ? analyzeBody(parts[i]!).units : parts[i]!.length;
          expect(used + weight).toBeGreaterThan(encoding === 'GSM-7' ? 153 : 67);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('GSM basic-only bodies up to 160 characters are one GSM-7 segment', () => {
    fc.assert(
      fc.property(gsmBasic(1, 160), (body) => {
        expect(analyzeBody(body)).toEqual({ encoding: 'GSM-7', segments: 1, units: body.length });
      }),
    );
  });

  it('GSM-7 septets count extension characters twice', () => {
    fc.assert(
      fc.property(gsmAny(400), (body) => {
        const ext = [...body].filter((ch) => GSM7_EXTENSION.has(ch)).length;
        expect(analyzeBody(body)).toMatchObject({ encoding: 'GSM-7', units: body.length + ext });
      }),
    );
  });

  it('counts 1 segment up to 160 septets, then one per 153 (GSM-7 basic characters)', () => {
    fc.assert(
      fc.property(gsmBasic(1, MAX_BODY_CHARS), (body) => {
        const n = body.length;
        expect(analyzeBody(body).segments).toBe(n <= 160 ? 1 : Math.ceil(n / 153));
      }),
      { numRuns: 300 },
    );
  });

  it('counts 1 segment up to 70 UTF-16 units, then one per 67 (UCS-2 without surrogates)', () => {
    const bmp = fc.string({ unit: fc.constantFrom('ж', 'é', '中', 'a', ' '), minLength: 1, maxLength: 800 });
    fc.assert(
      fc.property(
        bmp.filter((b) => !isGsm7(b)),
        (body) => {
          const n = body.length;
          expect(analyzeBody(body)).toEqual({
            encoding: 'UCS-2',
            segments: n <= 70 ? 1 : Math.ceil(n / 67),
            units: n,
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an extension character never splits: a part boundary costs at most one extra segment', () => {
    fc.assert(
      fc.property(gsmAny(MAX_BODY_CHARS), (body) => {
        const { units, segments } = analyzeBody(body);
        if (units <= 160) expect(segments).toBe(1);
        else {
          expect(segments).toBeGreaterThanOrEqual(Math.ceil(units / 153));
          expect(segments).toBeLessThanOrEqual(Math.ceil(units / 152));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('any non-GSM character switches the whole body to UCS-2', () => {
    const nonGsm = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 1 })
      .filter((ch) => !GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch));
    fc.assert(
      fc.property(gsmAny(300), nonGsm, fc.nat(), (body, ch, at) => {
        const i = at % (body.length + 1);
        const text = body.slice(0, i) + ch + body.slice(i);
        const result = analyzeBody(text);
        expect(result.encoding).toBe('UCS-2');
        expect(result.units).toBe(text.length);
      }),
    );
  });
});
