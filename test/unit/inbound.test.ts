/** Two-way SMS pieces without I/O: keywords, addresses, SMPP MOs, Twilio-style sids. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkInboundPart, inboundAddress } from '../../adapters/inbound.ts';
import { encodeParts } from '../../adapters/smpp-encoding.ts';
import { MO_MESSAGE_ID_TLV, parseDeliverSmInbound } from '../../adapters/smpp-inbound.ts';
import { twilioStatusOf } from '../../adapters/twilio-format.ts';
import { ReceiptParseError } from '../../adapters/types.ts';
import {
  messageIdFromIdempotencyKey,
  messageIdsOfTwilioSid,
  newMessageId,
  twilioSid,
} from '../../domain/ids.ts';
import { inboundKeyword, keywordReply } from '../../domain/inbound-keywords.ts';

describe('keywords', () => {
  it.each([
    ['STOP', 'stop'],
    ['  stop\n', 'stop'],
    ['StopAll', 'stop'],
    ['unsubscribe', 'stop'],
    ['CANCEL', 'stop'],
    ['end', 'stop'],
    ['Quit', 'stop'],
    ['start', 'start'],
    ['UNSTOP', 'start'],
    ['yes', 'start'],
    ['help', 'help'],
    ['stop please', null],
    ['STOPP', null],
    ['', null],
  ])('%j → %s', (body, keyword) => {
    expect(inboundKeyword(body)).toBe(keyword);
  });

  it('replies with the default text, the account’s, or none', () => {
    expect(keywordReply('help', null)).toMatch(/STOP/);
    expect(keywordReply('help', 'Acme help')).toBe('Acme help');
    expect(keywordReply('stop', '')).toBeNull();
  });
});

describe('addresses', () => {
  it('MSISDNs become E.164; sender ids stay as written; empty is refused', () => {
    expect(inboundAddress('14155552671', 'msisdn')).toBe('+14155552671');
    expect(inboundAddress('+33 6 12 34 56 78', 'to')).toBe('+33612345678');
    expect(inboundAddress('Acme', 'to')).toBe('Acme');
    expect(() => inboundAddress('', 'from')).toThrow(ReceiptParseError);
    expect(() =>
      checkInboundPart({ carrierMessageId: 'x', from: '+1415', to: '+1415', text: 'a\u0000b' }),
    ).toThrow(ReceiptParseError);
  });
});

describe('SMPP mobile-originated deliver_sm', () => {
  const decoded = (shortMessage: Buffer, esmClass: number, dataCoding: number) => {
    // As the smpp package hands it over: UDH split off, text decoded by data_coding.
    const udhLength = esmClass & 0x40 ? (shortMessage[0] ?? 0) + 1 : 0;
    const body = shortMessage.subarray(udhLength);
    return {
      esm_class: esmClass,
      data_coding: dataCoding,
      source_addr: '33612345601',
      destination_addr: '33612345600',
      short_message: {
        ...(udhLength ? { udh: [shortMessage.subarray(1, udhLength)] } : {}),
        message: dataCoding === 8 ? Buffer.from(body).swap16().toString('utf16le') : body.toString('latin1'),
      },
    };
  };

  it('reads the parts of a UCS-2 message: numbered, one reference, the SMSC’s id', () => {
    const text = `안녕하세요 ${'감사합니다 '.repeat(20)}`;
    const parts = encodeParts(text, 'UCS-2', 42).map((p, i) =>
      parseDeliverSmInbound({
        ...decoded(p.shortMessage, p.esmClass, p.dataCoding),
        [MO_MESSAGE_ID_TLV.tag]: `MO${i}`,
      }),
    );
    expect(parts.map((p) => p.concat)).toEqual(
      parts.map((_, i) => ({ ref: '42', total: parts.length, seq: i + 1 })),
    );
    expect(parts.map((p) => p.text).join('')).toBe(text);
    expect(parts[0]).toMatchObject({ from: '+33612345601', to: '+33612345600', carrierMessageId: 'MO0' });
  });

  it('without the SMSC’s id: the same PDU within the hour has the same id, another hour or text another', () => {
    const pdu = { ...decoded(Buffer.from('YES', 'latin1'), 0, 0) };
    const at = new Date('2026-12-06T10:15:00Z');
    const a = parseDeliverSmInbound(pdu, at);
    expect(parseDeliverSmInbound(pdu, new Date('2026-12-06T10:59:59Z')).carrierMessageId).toBe(
      a.carrierMessageId,
    );
    expect(parseDeliverSmInbound(pdu, new Date('2026-12-06T11:00:00Z')).carrierMessageId).not.toBe(
      a.carrierMessageId,
    );
    expect(parseDeliverSmInbound(decoded(Buffer.from('NO', 'latin1'), 0, 0), at).carrierMessageId).not.toBe(
      a.carrierMessageId,
    );
    expect(a).toMatchObject({ text: 'YES' });
    expect(a.concat).toBeUndefined();
  });

  it('reads the sar_* TLVs when there is no UDH', () => {
    const part = parseDeliverSmInbound({
      ...decoded(Buffer.from('second half', 'latin1'), 0, 0),
      sar_msg_ref_num: 7,
      sar_total_segments: 2,
      sar_segment_seqnum: 2,
    });
    expect(part.concat).toEqual({ ref: '7', total: 2, seq: 2 });
  });
});

describe('Twilio-style sids', () => {
  it('a random message id maps to SM + 32 hex and back exactly', () => {
    for (let i = 0; i < 50; i++) {
      const id = newMessageId(randomBytes(16));
      const sid = twilioSid(id);
      expect(sid).toMatch(/^SM[0-9a-f]{32}$/);
      expect(messageIdsOfTwilioSid(sid)[0]).toBe(id);
    }
  });

  it('a hashed id (Idempotency-Key) is among its sid’s candidates; a malformed sid has none', () => {
    const id = messageIdFromIdempotencyKey('acc_x', 'key-1');
    expect(messageIdsOfTwilioSid(twilioSid(id))).toContain(id);
    expect(messageIdsOfTwilioSid('SMnothex')).toEqual([]);
  });

  it('statuses as Twilio names them', () => {
    expect(twilioStatusOf('accepted')).toBe('queued');
    expect(twilioStatusOf('expired')).toBe('failed');
    expect(twilioStatusOf('delivered')).toBe('delivered');
  });
});
