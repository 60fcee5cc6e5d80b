/**
 * SMPP 3.4 `command_status` codes → Herald's error classes (DESIGN §5). Transient SMSC states
 * (throttled, queue full, system error, temporary application error) are retried — Kannel's
 * list; recipient and content errors are permanent; bind and session problems fail over. A code
 * we do not know says nothing against the recipient, so it fails over rather than stopping.
 */
import type { CarrierError, CarrierErrorClass } from '../domain/carrier-error.ts';

interface StatusInfo {
  readonly name: string;
  readonly class: CarrierErrorClass;
  readonly code: string;
  readonly text: string;
}

/** Wait suggested after a throttling or queue-full answer, ms. */
export const SMPP_THROTTLE_RETRY_MS = 1_000;

const STATUSES: ReadonlyMap<number, StatusInfo> = new Map<number, StatusInfo>([
  [0x00, { name: 'ESME_ROK', class: 'retry', code: 'ok', text: 'no error' }],
  [
    0x01,
    {
      name: 'ESME_RINVMSGLEN',
      class: 'permanent',
      code: 'invalid_content',
      text: 'message length is invalid',
    },
  ],
  [
    0x02,
    { name: 'ESME_RINVCMDLEN', class: 'failover', code: 'protocol_error', text: 'command length is invalid' },
  ],
  [0x03, { name: 'ESME_RINVCMDID', class: 'failover', code: 'protocol_error', text: 'invalid command id' }],
  [
    0x04,
    {
      name: 'ESME_RINVBNDSTS',
      class: 'failover',
      code: 'not_bound',
      text: 'incorrect bind status for the command',
    },
  ],
  [0x05, { name: 'ESME_RALYBND', class: 'failover', code: 'not_bound', text: 'ESME already in bound state' }],
  [0x08, { name: 'ESME_RSYSERR', class: 'retry', code: 'carrier_error', text: 'system error' }],
  [
    0x0a,
    { name: 'ESME_RINVSRCADR', class: 'permanent', code: 'invalid_sender', text: 'invalid source address' },
  ],
  [
    0x0b,
    {
      name: 'ESME_RINVDSTADR',
      class: 'permanent',
      code: 'invalid_number',
      text: 'invalid destination address',
    },
  ],
  [0x0d, { name: 'ESME_RBINDFAIL', class: 'failover', code: 'auth_failed', text: 'bind failed' }],
  [0x0e, { name: 'ESME_RINVPASWD', class: 'failover', code: 'auth_failed', text: 'invalid password' }],
  [0x0f, { name: 'ESME_RINVSYSID', class: 'failover', code: 'auth_failed', text: 'invalid system id' }],
  [0x14, { name: 'ESME_RMSGQFUL', class: 'retry', code: 'queue_full', text: 'message queue full' }],
  [0x45, { name: 'ESME_RSUBMITFAIL', class: 'permanent', code: 'rejected', text: 'submit_sm failed' }],
  [
    0x48,
    {
      name: 'ESME_RINVSRCTON',
      class: 'permanent',
      code: 'invalid_sender',
      text: 'invalid source address TON',
    },
  ],
  [
    0x49,
    {
      name: 'ESME_RINVSRCNPI',
      class: 'permanent',
      code: 'invalid_sender',
      text: 'invalid source address NPI',
    },
  ],
  [
    0x50,
    {
      name: 'ESME_RINVDSTTON',
      class: 'permanent',
      code: 'invalid_number',
      text: 'invalid destination address TON',
    },
  ],
  [
    0x51,
    {
      name: 'ESME_RINVDSTNPI',
      class: 'permanent',
      code: 'invalid_number',
      text: 'invalid destination address NPI',
    },
  ],
  [
    0x58,
    {
      name: 'ESME_RTHROTTLED',
      class: 'retry',
      code: 'throttled',
      text: 'throttling error: submit rate exceeded',
    },
  ],
  [
    0x61,
    {
      name: 'ESME_RINVSCHED',
      class: 'permanent',
      code: 'invalid_content',
      text: 'invalid scheduled delivery time',
    },
  ],
  [
    0x62,
    { name: 'ESME_RINVEXPIRY', class: 'permanent', code: 'invalid_content', text: 'invalid validity period' },
  ],
  [
    0x64,
    { name: 'ESME_RX_T_APPN', class: 'retry', code: 'carrier_error', text: 'temporary application error' },
  ],
  [
    0x65,
    { name: 'ESME_RX_P_APPN', class: 'permanent', code: 'rejected', text: 'permanent application error' },
  ],
  [
    0x66,
    {
      name: 'ESME_RX_R_APPN',
      class: 'permanent',
      code: 'rejected',
      text: 'application error: message rejected',
    },
  ],
  [
    0xfe,
    { name: 'ESME_RDELIVERYFAILURE', class: 'permanent', code: 'undeliverable', text: 'delivery failure' },
  ],
  [
    0x0104,
    { name: 'ESME_RINVDCS', class: 'permanent', code: 'invalid_content', text: 'invalid data coding scheme' },
  ],
]);

/** `0x58`-style spelling of a command_status, as errors and logs keep it. */
export function formatCommandStatus(status: number): string {
  return `0x${status.toString(16).padStart(2, '0').toUpperCase()}`;
}

/** The SMPP name of a status (`ESME_RTHROTTLED`), or `UNKNOWN_0x…`. */
export function commandStatusName(status: number): string {
  return STATUSES.get(status)?.name ?? `UNKNOWN_${formatCommandStatus(status)}`;
}

/** Classifies a non-zero `command_status` of a `submit_sm_resp` (or `generic_nack`). */
export function classifyCommandStatus(status: number): CarrierError {
  const info = STATUSES.get(status);
  const carrierCode = formatCommandStatus(status);
  if (!info || status === 0) {
    return {
      class: 'failover',
      code: 'carrier_error',
      message: `${commandStatusName(status)}: the SMSC refused the message`,
      carrierCode,
    };
  }
  const retryAfter =
    info.code === 'throttled' || info.code === 'queue_full' ? { retryAfterMs: SMPP_THROTTLE_RETRY_MS } : {};
  return {
    class: info.class,
    code: info.code,
    message: `${info.name}: ${info.text}`,
    carrierCode,
    ...retryAfter,
  };
}
