/**
 * Delivery receipts carried by `deliver_sm` (esm_class 0x04), SMPP 3.4 Appendix B: the text
 * form `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…` and the
 * `receipted_message_id` (0x001E) / `message_state` (0x0427) TLVs. TLVs win when present.
 * Tolerant of the usual quirks: `Text:` capitalised, sub/dlvrd left out, 12-digit dates.
 */

import { normalizeSmppId, type SmppIdBase } from './smpp-ids.ts';
import { type Receipt, ReceiptParseError, type ReceiptStatus } from './types.ts';

/** The fields of a decoded `deliver_sm` the parser reads (as the `smpp` package decodes them). */
export interface DeliverSmFields {
  readonly esm_class?: unknown;
  /** A string, a Buffer, or the package's `{ message, udh? }`. */
  readonly short_message?: unknown;
  readonly message_payload?: unknown;
  readonly receipted_message_id?: unknown;
  readonly message_state?: unknown;
  readonly network_error_code?: unknown;
  /** Any other PDU field (a decoded `smpp.PDU` fits as it is). */
  readonly [field: string]: unknown;
}

/** Bases the ids of a carrier's receipts are written in. */
export interface ReceiptIdBases {
  /** The id in the receipt text. */
  readonly text: SmppIdBase;
  /** The `receipted_message_id` TLV (SMPP 3.4 says: as in `submit_sm_resp`). */
  readonly tlv: SmppIdBase;
}

/** A parsed receipt; `carrierMessageId` is normalized, `rawId` as the SMSC wrote it. */
export interface SmppReceipt extends Receipt {
  readonly rawId: string;
}

const STAT_TO_STATUS: Readonly<Record<string, ReceiptStatus>> = {
  DELIVRD: 'delivered',
  EXPIRED: 'expired',
  UNDELIV: 'undelivered',
  REJECTD: 'undelivered',
  DELETED: 'undelivered',
  // UNKNOWN is a final state in SMPP 3.4 §5.2.28: no further receipt follows, nothing was shown
  // delivered, and the carrier bills on submission anyway.
  UNKNOWN: 'undelivered',
  ACCEPTD: 'enroute',
  ENROUTE: 'enroute',
  BUFFRED: 'enroute',
  ACKED: 'enroute',
};

/** message_state TLV values (SMPP 3.4 §5.2.28) → the `stat` word of the text form. */
const STATE_TO_STAT: Readonly<Record<number, string>> = {
  0: 'ENROUTE', // SCHEDULED
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
  9: 'UNDELIV', // SKIPPED (SMPP 5.0)
};

/** True when the esm_class marks an SMSC delivery receipt (bits 2–5 = 0001). */
export function isDeliveryReceipt(esmClass: unknown): boolean {
  return typeof esmClass === 'number' && (esmClass & 0x3c) === 0x04;
}

/** The receipt text of a `deliver_sm`, however the package handed it over. */
export function receiptText(pdu: DeliverSmFields): string {
  const body = textOf(pdu.short_message);
  return body !== '' ? body : textOf(pdu.message_payload);
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value !== null && typeof value === 'object' && 'message' in value) {
    return textOf((value as { message: unknown }).message);
  }
  return '';
}

/** The `key:value` fields of a receipt text (keys lower-cased; `text` is the rest of the line). */
export function parseReceiptText(text: string): Readonly<Record<string, string>> {
  const fields: Record<string, string> = {};
  // `text:` comes last and may hold anything, `stat:` included: cut it off first.
  const cut = /(?:^|\s)text:/i.exec(text);
  const head = cut ? text.slice(0, cut.index) : text;
  if (cut) fields.text = text.slice(cut.index + cut[0].length);
  for (const m of head.matchAll(/(?:^|\s)(id|sub|dlvrd|submit date|done date|stat|err):(\S*)/gi)) {
    const key = (m[1] ?? '').toLowerCase();
    if (!(key in fields)) fields[key] = m[2] ?? '';
  }
  return fields;
}

/**
 * `YYMMDDhhmm` or `YYMMDDhhmmss` (SMSC time, taken as UTC) → ISO-8601; undefined when it does
 * not read as a date.
 */
export function receiptDateToIso(value: string | undefined): string | undefined {
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value ?? '');
  if (!m) return undefined;
  const [yy, mo, dd, hh, mi, ss] = m.slice(1).map((v) => Number(v ?? '0')) as number[];
  const d = new Date(Date.UTC(2000 + (yy ?? 0), (mo ?? 1) - 1, dd, hh, mi, ss));
  return Number.isNaN(d.getTime()) || d.getUTCMonth() !== (mo ?? 1) - 1 ? undefined : d.toISOString();
}

/**
 * Parses one receipt `deliver_sm`.
 *
 * @throws ReceiptParseError when it is not a receipt or carries neither an id nor a state.
 */
export function parseDeliverSmReceipt(pdu: DeliverSmFields, bases: ReceiptIdBases): SmppReceipt {
  if (!isDeliveryReceipt(pdu.esm_class)) throw new ReceiptParseError('deliver_sm is not a delivery receipt');
  const fields = parseReceiptText(receiptText(pdu));

  const tlvId = typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id.trim() : '';
  const textId = fields.id?.trim() ?? '';
  const rawId = tlvId !== '' ? tlvId : textId;
  if (rawId === '') throw new ReceiptParseError('receipt carries no message id');
  const carrierMessageId = normalizeSmppId(rawId, tlvId !== '' ? bases.tlv : bases.text);

  const tlvStat = typeof pdu.message_state === 'number' ? STATE_TO_STAT[pdu.message_state] : undefined;
  const textStat = fields.stat?.toUpperCase();
  const stat = tlvStat ?? textStat;
  const status = stat === undefined ? undefined : STAT_TO_STATUS[stat];
  if (stat === undefined || status === undefined) {
    throw new ReceiptParseError(`receipt has no known state (stat: ${fields.stat ?? 'missing'})`);
  }

  const errorCode = errorCodeOf(fields.err, pdu.network_error_code);
  const at = receiptDateToIso(fields['done date']);
  return {
    carrierMessageId,
    rawId,
    status,
    carrierStatus: stat,
    ...(status !== 'delivered' && errorCode !== undefined ? { errorCode } : {}),
    ...(status !== 'delivered' && status !== 'enroute' ? { errorMessage: `SMSC reported ${stat}` } : {}),
    ...(at ? { at } : {}),
  };
}

/** `err:` of the text, else the network_error_code TLV (type octet + 16-bit code). */
function errorCodeOf(textErr: string | undefined, tlv: unknown): string | undefined {
  if (textErr !== undefined && textErr !== '') return textErr;
  if (Buffer.isBuffer(tlv) && tlv.length >= 3) return String(tlv.readUInt16BE(1));
  return undefined;
}

/** A readable record of a receipt PDU for the `receipts.raw` column. */
export function rawReceiptRecord(pdu: DeliverSmFields): string {
  const record: Record<string, unknown> = { short_message: receiptText(pdu) };
  if (pdu.receipted_message_id !== undefined) record.receipted_message_id = pdu.receipted_message_id;
  if (pdu.message_state !== undefined) record.message_state = pdu.message_state;
  if (Buffer.isBuffer(pdu.network_error_code))
    record.network_error_code = pdu.network_error_code.toString('hex');
  return JSON.stringify(record);
}
