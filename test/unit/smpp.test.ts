/** SMPP pure parts: id normalization, receipt parsing, encoding and UDH, command_status classes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { createSmppAdapter } from '../../adapters/smpp.ts';
import {
  concatUdh,
  encodeGsm7,
  encodeParts,
  encodeUcs2,
  readConcatUdh,
  relativeValidity,
  sourceAddress,
} from '../../adapters/smpp-encoding.ts';
import { normalizeSmppId, sameSmppId } from '../../adapters/smpp-ids.ts';
import {
  isDeliveryReceipt,
  parseDeliverSmReceipt,
  parseReceiptText,
  receiptDateToIso,
} from '../../adapters/smpp-receipts.ts';
import { classifyCommandStatus, commandStatusName } from '../../adapters/smpp-status.ts';
import { ReceiptParseError } from '../../adapters/types.ts';
import { GSM7_BASIC, GSM7_EXTENSION, splitSegments } from '../../domain/segments.ts';

const fixtures = join(import.meta.dirname, '../fixtures/smpp');
const fixture = (f: string) => readFileSync(join(fixtures, f), 'utf8');
const BASES = { text: 'decimal', tlv: 'hex' } as const;
const receipt = (text: string, extra: Record<string, unknown> = {}) =>
  parseDeliverSmReceipt({ esm_class: 0x04, short_message: { message: text }, ...extra }, BASES);

describe('SMPP ids', () => {
  it('hex from submit_sm_resp and decimal from the receipt meet in one canonical form', () => {
    expect(normalizeSmppId('00BC614E', 'hex')).toBe('bc614e');
    expect(normalizeSmppId('0000000012345678', 'decimal')).toBe('bc614e');
    expect(normalizeSmppId('bc614e', 'hex')).toBe('bc614e');
    expect(sameSmppId('0A00001F', 'hex', '167772191', 'decimal')).toBe(true);
    expect(sameSmppId('0A00001F', 'hex', '167772192', 'decimal')).toBe(false);
  });

  it('ids past 2^53 keep every digit', () => {
    expect(normalizeSmppId('18446744073709551615', 'decimal')).toBe('ffffffffffffffff');
    expect(normalizeSmppId('FFFFFFFFFFFFFFFF', 'hex')).toBe('ffffffffffffffff');
  });

  it('an id that does not parse in its base, or an opaque one, is trimmed and lower-cased', () => {
    expect(normalizeSmppId(' Msg-42X ', 'hex')).toBe('msg-42x');
    expect(normalizeSmppId('0042AB', 'opaque')).toBe('0042ab');
    expect(normalizeSmppId('12ab', 'decimal')).toBe('12ab');
  });

  it('property: any number written in hex (any case, any zeros) equals its decimal spelling', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 80n }), fc.nat(8), fc.boolean(), (n, zeros, upper) => {
        const hex = '0'.repeat(zeros) + (upper ? n.toString(16).toUpperCase() : n.toString(16));
        const dec = '0'.repeat(zeros) + n.toString(10);
        expect(normalizeSmppId(hex, 'hex')).toBe(normalizeSmppId(dec, 'decimal'));
      }),
    );
  });
});

describe('SMPP receipt text', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    [
      'dlr-delivered.txt',
      {
        carrierMessageId: 'bc614e',
        rawId: '0000000012345678',
        status: 'delivered',
        carrierStatus: 'DELIVRD',
        at: '2016-01-01T01:01:00.000Z',
      },
    ],
    ['dlr-expired-capital-text.txt', { status: 'expired', carrierStatus: 'EXPIRED', errorCode: '027' }],
    [
      'dlr-undeliv-jasmin-no-sub.txt',
      { status: 'undelivered', carrierStatus: 'UNDELIV', errorCode: '001', at: '2016-01-01T01:01:30.000Z' },
    ],
    [
      'dlr-rejected-text-with-stat.txt',
      { status: 'undelivered', carrierStatus: 'REJECTD', errorCode: '011' },
    ],
    ['dlr-deleted.txt', { status: 'undelivered', carrierStatus: 'DELETED' }],
    ['dlr-unknown.txt', { status: 'undelivered', carrierStatus: 'UNKNOWN', errorCode: '255' }],
    ['dlr-accepted.txt', { status: 'enroute', carrierStatus: 'ACCEPTD' }],
    ['dlr-enroute.txt', { status: 'enroute', carrierStatus: 'ENROUTE' }],
    ['dlr-uppercase-keys.txt', { carrierMessageId: 'bc614e', status: 'delivered', carrierStatus: 'DELIVRD' }],
  ];
  for (const [file, expected] of cases) {
    it(`${file} parses`, () => {
      expect(receipt(fixture(file))).toMatchObject(expected);
    });
  }

  it('BUFFRED and ACKED are intermediate; the delivered receipt carries no error code', () => {
    expect(receipt('id:1 stat:BUFFRED err:000').status).toBe('enroute');
    expect(receipt('id:1 stat:ACKED err:000').status).toBe('enroute');
    expect(receipt(fixture('dlr-delivered.txt')).errorCode).toBeUndefined();
  });

  it('fields are cut before text:, so a body quoting "stat:" cannot change the status', () => {
    const f = parseReceiptText(fixture('dlr-rejected-text-with-stat.txt'));
    expect(f.stat).toBe('REJECTD');
    expect(f.text).toBe('stat:DELIVRD trick');
  });

  it('dates of 10 and 12 digits; nonsense is no date', () => {
    expect(receiptDateToIso('1601010101')).toBe('2016-01-01T01:01:00.000Z');
    expect(receiptDateToIso('160101010159')).toBe('2016-01-01T01:01:59.000Z');
    expect(receiptDateToIso('1613010101')).toBeUndefined();
    expect(receiptDateToIso('abc')).toBeUndefined();
  });

  it('a Buffer short_message (data_coding the package does not know) is read as Latin-1', () => {
    const r = parseDeliverSmReceipt(
      { esm_class: 0x04, short_message: Buffer.from('id:10 stat:DELIVRD err:000', 'latin1') },
      BASES,
    );
    expect(r).toMatchObject({ carrierMessageId: 'a', status: 'delivered' });
  });

  const malformed: Array<[string, Record<string, unknown>]> = [
    ['not a receipt (MO message)', { esm_class: 0x00, short_message: { message: 'hello' } }],
    ['empty', { esm_class: 0x04, short_message: { message: '' } }],
    ['garbage', { esm_class: 0x04, short_message: Buffer.from([0, 1, 2, 0xff]) }],
    ['no id', { esm_class: 0x04, short_message: { message: 'stat:DELIVRD err:000' } }],
    ['no stat', { esm_class: 0x04, short_message: { message: 'id:123 err:000' } }],
    ['unknown stat', { esm_class: 0x04, short_message: { message: 'id:123 stat:WHATEVER' } }],
    ['truncated', { esm_class: 0x04, short_message: { message: 'id:123 sub:001 dlvrd:0' } }],
    ['no short_message at all', { esm_class: 0x04 }],
  ];
  for (const [label, pdu] of malformed) {
    it(`${label} → ReceiptParseError`, () => {
      expect(() => parseDeliverSmReceipt(pdu, BASES)).toThrow(ReceiptParseError);
    });
  }

  it('esm_class: only 0x04 in bits 2–5 is a receipt (UDHI and other bits allowed)', () => {
    expect(isDeliveryReceipt(0x04)).toBe(true);
    expect(isDeliveryReceipt(0x44)).toBe(true);
    expect(isDeliveryReceipt(0x08)).toBe(false);
    expect(isDeliveryReceipt(0x00)).toBe(false);
    expect(isDeliveryReceipt(undefined)).toBe(false);
  });
});

describe('SMPP receipt TLVs (recorded deliver_sm PDUs)', () => {
  const decode = (file: string) => {
    const pdu = smpp.PDU.fromBuffer(Buffer.from(fixture(file).trim(), 'hex'));
    if (!pdu) throw new Error('fixture does not decode');
    return pdu;
  };

  it('receipted_message_id (hex) and message_state win over the text; network_error_code kept', () => {
    const pdu = decode('deliver-sm-undeliv-tlv.hex');
    expect(pdu.command).toBe('deliver_sm');
    const r = parseDeliverSmReceipt(pdu, BASES);
    // Text says decimal 12345678, the TLV hex 00BC614E: the same message.
    expect(r).toMatchObject({ carrierMessageId: 'bc614e', rawId: '00BC614E', status: 'undelivered' });
    expect(r.errorCode).toBe('001');
  });

  it('a receipt with TLVs only (no text) parses', () => {
    const r = parseDeliverSmReceipt(decode('deliver-sm-tlv-only-delivered.hex'), BASES);
    expect(r).toMatchObject({ carrierMessageId: 'a00001f', status: 'delivered', carrierStatus: 'DELIVRD' });
  });

  it('every message_state maps', () => {
    const expected = [
      'enroute',
      'enroute',
      'delivered',
      'expired',
      'undelivered',
      'undelivered',
      'enroute',
      'undelivered',
      'undelivered',
    ];
    expected.forEach((status, state) => {
      expect(receipt('', { receipted_message_id: '1F', message_state: state }).status, String(state)).toBe(
        status,
      );
    });
  });
});

describe('SMPP encoding', () => {
  it('GSM-7: the package maps GSM 03.38 one septet per octet, extension characters behind ESC', () => {
    expect([...encodeGsm7('@£$A')]).toEqual([0x00, 0x01, 0x02, 0x41]);
    expect([...encodeGsm7('Δ_¤§à')]).toEqual([0x10, 0x11, 0x24, 0x5f, 0x7f]);
    expect([...encodeGsm7('€{}[]~|^\\\f')]).toEqual([
      0x1b, 0x65, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x3c, 0x1b, 0x3e, 0x1b, 0x3d, 0x1b, 0x40, 0x1b, 0x14, 0x1b,
      0x2f, 0x1b, 0x0a,
    ]);
  });

  it('GSM-7: every character of the alphabet round-trips through the package decoder', () => {
    const all = [...GSM7_BASIC, ...GSM7_EXTENSION].join('');
    const bytes = encodeGsm7(all);
    expect(bytes.length).toBe(GSM7_BASIC.size + 2 * GSM7_EXTENSION.size);
    expect(smpp.encodings.ASCII.decode(bytes)).toBe(all);
  });

  it('UCS-2 is UTF-16 big-endian, surrogate pairs included', () => {
    expect([...encodeUcs2('Aé')]).toEqual([0x00, 0x41, 0x00, 0xe9]);
    expect(encodeUcs2('😀').toString('hex')).toBe('d83dde00');
  });

  it('UDH: 05 00 03 ref total seq, read back', () => {
    expect([...concatUdh(0x1c2, 3, 2)]).toEqual([0x05, 0x00, 0x03, 0xc2, 3, 2]);
    expect(readConcatUdh(Buffer.concat([concatUdh(7, 3, 1), Buffer.from('hi')]))).toEqual({
      ref: 7,
      total: 3,
      seq: 1,
      headerLength: 6,
    });
    expect(readConcatUdh(Buffer.from([0x06, 0x08, 0x04, 0x01, 0x02, 2, 1]))).toMatchObject({
      ref: 258,
      total: 2,
      seq: 1,
    });
    expect(readConcatUdh(Buffer.from([0x09, 0x00]))).toBeUndefined();
  });

  it('a single part has no UDH; a long GSM-7 message gets 153-septet parts under esm_class 0x40', () => {
    expect(encodeParts('hello', 'GSM-7', 1)).toEqual([
      { esmClass: 0, dataCoding: 0, shortMessage: Buffer.from('hello') },
    ]);
    const body = 'a'.repeat(400);
    const parts = encodeParts(body, 'GSM-7', 9);
    expect(parts).toHaveLength(3);
    expect(parts.map((p) => p.shortMessage.length)).toEqual([6 + 153, 6 + 153, 6 + 94]);
    expect(parts.every((p) => p.esmClass === 0x40 && p.dataCoding === 0)).toBe(true);
    expect(parts.map((p) => readConcatUdh(p.shortMessage)?.seq)).toEqual([1, 2, 3]);
  });

  it('property: parts decode back to the body, each within 140 octets', () => {
    const gsm = [...GSM7_BASIC, ...GSM7_EXTENSION];
    const text = fc.oneof(
      fc.array(fc.constantFrom(...gsm), { maxLength: 700 }).map((a) => a.join('')),
      fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => `ж${s}`),
    );
    fc.assert(
      fc.property(text, fc.nat(255), (body, ref) => {
        const encoding =
          /^[\s\S]*$/.test(body) && [...body].every((c) => GSM7_BASIC.has(c) || GSM7_EXTENSION.has(c))
            ? 'GSM-7'
            : 'UCS-2';
        const parts = encodeParts(body, encoding, ref);
        expect(parts).toHaveLength(splitSegments(body).length);
        const decoded = parts.map((p) => {
          const udh = readConcatUdh(p.shortMessage);
          const payload = parts.length > 1 ? p.shortMessage.subarray(udh?.headerLength ?? 0) : p.shortMessage;
          if (parts.length > 1) expect(udh?.total).toBe(parts.length);
          // GSM-7 octets are septets: 140 octets of a binary SMS hold 160 of them.
          expect(payload.length).toBeLessThanOrEqual(encoding === 'GSM-7' ? 160 : 140);
          return encoding === 'GSM-7'
            ? smpp.encodings.ASCII.decode(payload)
            : Buffer.from(payload).swap16().toString('utf16le');
        });
        expect(decoded.join('')).toBe(body);
      }),
      { numRuns: 200 },
    );
  });

  it('addresses and the relative validity period', () => {
    expect(sourceAddress('Herald')).toEqual({ ton: 5, npi: 0, addr: 'Herald' });
    expect(sourceAddress('+14155550100')).toEqual({ ton: 1, npi: 1, addr: '14155550100' });
    expect(relativeValidity(600)).toBe('000000001000000R');
    expect(relativeValidity(259_200)).toBe('000003000000000R');
    expect(relativeValidity(90_061)).toBe('000001010101000R');
  });
});

describe('SMPP command_status', () => {
  const table: Array<[number, string, string]> = [
    [0x58, 'retry', 'throttled'],
    [0x14, 'retry', 'queue_full'],
    [0x08, 'retry', 'carrier_error'],
    [0x64, 'retry', 'carrier_error'],
    [0x0b, 'permanent', 'invalid_number'],
    [0x0a, 'permanent', 'invalid_sender'],
    [0x45, 'permanent', 'rejected'],
    [0x65, 'permanent', 'rejected'],
    [0x0d, 'failover', 'auth_failed'],
    [0x0e, 'failover', 'auth_failed'],
    [0x04, 'failover', 'not_bound'],
    [0x1234, 'failover', 'carrier_error'],
  ];
  for (const [status, cls, code] of table) {
    it(`0x${status.toString(16)} → ${cls} (${code}), keeping the raw code and name`, () => {
      const e = classifyCommandStatus(status);
      expect(e).toMatchObject({ class: cls, code });
      expect(e.carrierCode).toBe(`0x${status.toString(16).padStart(2, '0').toUpperCase()}`);
      expect(e.message).toContain(commandStatusName(status));
    });
  }

  it('throttling and a full queue say how long to wait', () => {
    expect(classifyCommandStatus(0x58).retryAfterMs).toBeGreaterThan(0);
    expect(classifyCommandStatus(0x14).retryAfterMs).toBeGreaterThan(0);
    expect(classifyCommandStatus(0x08).retryAfterMs).toBeUndefined();
    expect(commandStatusName(0x58)).toBe('ESME_RTHROTTLED');
  });
});

describe('SMPP adapter without a session (the API process)', () => {
  const adapter = createSmppAdapter({ host: '127.0.0.1', systemId: 'x', password: 'y' });
  it('fails over, never verifies and never parses HTTP receipts', async () => {
    const r = await adapter.submit({
      messageId: 'msg_1',
      to: '+33612345678',
      from: 'Herald',
      body: 'hi',
      encoding: 'GSM-7',
      segments: 1,
      validitySeconds: 60,
      statusCallbackUrl: 'http://x',
    });
    expect(r).toMatchObject({ ok: false, error: { class: 'failover' } });
    const inbound = { method: 'POST', url: 'http://x', headers: {}, rawBody: 'id:1 stat:DELIVRD' };
    expect(adapter.verify(inbound)).toBe(false);
    expect(() => adapter.parseReceipts(inbound)).toThrow(ReceiptParseError);
  });

  it('a bad config names the field', () => {
    expect(() => createSmppAdapter({ host: '', systemId: 'x', password: 'y' })).toThrow(/host/);
  });
});
