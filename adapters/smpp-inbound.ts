/**
 * Mobile-originated messages carried by `deliver_sm` that is not a receipt (DESIGN §11): the
 * text decoded by its data_coding (GSM 03.38 default alphabet, Latin-1 or UCS-2), a long
 * message's parts told apart by their concatenation UDH (IEI 0x00 / 0x08) or the `sar_*` TLVs.
 *
 * SMPP gives a deliver_sm no message id. An SMSC that numbers its MOs sends the id in the vendor
 * TLV `mo_message_id` (0x1400, C-string; our simulator does); without it the id is a hash of the
 * PDU's contents and the hour it arrived, so a redelivery (our `deliver_sm_resp` lost) within the
 * hour is stored once, at the cost of merging two identical texts sent within that hour.
 */
import { createHash } from 'node:crypto';
import smpp from 'smpp';
import { inboundAddress } from './inbound.ts';
import { decodeShortMessage } from './smpp-encoding.ts';
import type { DeliverSmFields } from './smpp-receipts.ts';
import { type InboundPart, ReceiptParseError } from './types.ts';

/** The vendor-specific TLV (SMPP 3.4 §5.3.2: 0x1400–0x3FFF) carrying an SMSC's MO id. */
export const MO_MESSAGE_ID_TLV = { tag: 'mo_message_id', id: 0x1400 } as const;

smpp.addTLV(MO_MESSAGE_ID_TLV.tag, { id: MO_MESSAGE_ID_TLV.id, type: smpp.types.tlv.cstring });

/**
 * One `deliver_sm` that is not a receipt → one message or part.
 *
 * @param receivedAt - when it arrived (for the id of an MO without `mo_message_id`).
 * @throws ReceiptParseError without a source or destination address.
 */
export function parseDeliverSmInbound(pdu: DeliverSmFields, receivedAt: Date = new Date()): InboundPart {
  const decoded = decodeShortMessage(pdu);
  const payload = pdu.message_payload;
  const text =
    decoded.text !== ''
      ? decoded.text
      : typeof payload === 'string'
        ? payload
        : payload !== null && typeof payload === 'object' && 'message' in payload
          ? String((payload as { message: unknown }).message ?? '')
          : '';
  const from = inboundAddress(stringField(pdu.source_addr), 'source_addr');
  const to = inboundAddress(stringField(pdu.destination_addr), 'destination_addr');
  const concat = decoded.udhConcat ?? sarConcat(pdu);
  const ref = concat ? `${concat.ref}` : undefined;
  const smscId = stringField(pdu[MO_MESSAGE_ID_TLV.tag]);
  const carrierMessageId =
    smscId !== undefined && smscId !== ''
      ? smscId
      : `h:${createHash('sha256')
          .update(
            JSON.stringify([from, to, text, concat ?? null, receivedAt.toISOString().slice(0, 13)]),
            'utf8',
          )
          .digest('hex')
          .slice(0, 32)}`;
  return {
    carrierMessageId,
    from,
    to,
    text,
    ...(concat && ref !== undefined && concat.total > 1
      ? { concat: { ref, total: concat.total, seq: concat.seq } }
      : {}),
  };
}

function sarConcat(pdu: DeliverSmFields): { ref: number; total: number; seq: number } | undefined {
  const ref = pdu.sar_msg_ref_num;
  const total = pdu.sar_total_segments;
  const seq = pdu.sar_segment_seqnum;
  if (typeof ref !== 'number' || typeof total !== 'number' || typeof seq !== 'number') return undefined;
  if (total < 1 || seq < 1 || seq > total)
    throw new ReceiptParseError('deliver_sm with malformed sar_* TLVs');
  return { ref, total, seq };
}

function stringField(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  return undefined;
}
