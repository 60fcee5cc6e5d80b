/**
 * SMPP 3.4 carrier adapter (kind `smpp`): one `submit_sm` per segment over the worker's bound
 * session (adapters/smpp-session.ts). Wire format: shared/reference/carrier-wire-formats.md (d).
 *
 * Multi-part messages are sent part by part in order. When part 1 fails, nothing reached the
 * handset and the error is classified as is. When a later part fails after earlier ones were
 * accepted, the earlier parts are never sent again: a transient refusal of that part (throttled,
 * queue full) is retried for that part alone; if it still fails, the result is `ambiguous`
 * (`partial_submit`): the carrier holds part of the message, bills it, and may send receipts.
 *
 * Receipts do not come over HTTP: they arrive as `deliver_sm` on the session, so `verify` is
 * always false and `parseReceipts` always throws.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { CarrierError } from '../domain/carrier-error.ts';
import {
  destinationAddress,
  encodeParts,
  REGISTERED_DELIVERY_FINAL,
  relativeValidity,
  sourceAddress,
} from './smpp-encoding.ts';
import { normalizeSmppId, SMPP_ID_BASES } from './smpp-ids.ts';
import type { PartResult, SmppSession, SmppSessionOptions, SubmitSmFields } from './smpp-session.ts';
import { classifyCommandStatus, SMPP_THROTTLE_RETRY_MS } from './smpp-status.ts';
import { type CarrierAdapter, ReceiptParseError, type SubmitRequest, type SubmitResult } from './types.ts';

const byte = z.number().int().min(0).max(255);

export const smppConfigSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535).default(2775),
  systemId: z.string().min(1).max(15),
  password: z.string().max(8),
  systemType: z.string().max(12).default(''),
  /** service_type of every submit_sm. Default '' (SMSC default). */
  serviceType: z.string().max(5).default(''),
  /** Source address TON / NPI; default by sender: alphanumeric 5/0, numeric 1/1. */
  sourceTon: byte.optional(),
  sourceNpi: byte.optional(),
  /** In-flight PDUs on the bind. Default 10. */
  window: z.number().int().min(1).max(1_000).default(10),
  enquireLinkMs: z.number().int().min(100).default(15_000),
  /** Wait for `submit_sm_resp` after writing; past it the submit is ambiguous. Default 10 000. */
  submitTimeoutMs: z.number().int().min(10).default(10_000),
  /** How a submit waits for a bind in progress before failing over. Default 1 000. */
  bindWaitMs: z.number().int().min(0).default(1_000),
  /** Reconnect backoff, doubling from the first to the cap. Defaults 250 and 30 000. */
  reconnectInitialMs: z.number().int().min(10).default(250),
  reconnectMaxMs: z.number().int().min(10).default(30_000),
  /** Base of ids in `submit_sm_resp` (and, per SMPP 3.4, in `receipted_message_id`). Default hex. */
  idBase: z.enum(SMPP_ID_BASES).default('hex'),
  /** Base of the `id:` in the receipt text; default = idBase (many SMSCs write decimal here). */
  receiptIdBase: z.enum(SMPP_ID_BASES).optional(),
  /** Retries of a later part refused with a transient status, after earlier parts were taken. Default 2. */
  partRetries: z.number().int().min(0).max(10).default(2),
});
/** SMPP carrier config as stored (defaults not yet applied). */
export type SmppConfig = z.input<typeof smppConfigSchema>;
export type SmppResolvedConfig = z.output<typeof smppConfigSchema>;

/** The session options a carrier's config asks for (callbacks and TPS are the owner's). */
export function smppSessionOptions(
  config: SmppResolvedConfig,
): Omit<SmppSessionOptions, 'onReceipt' | 'onInbound' | 'onState' | 'log' | 'tps'> {
  return {
    host: config.host,
    port: config.port,
    systemId: config.systemId,
    password: config.password,
    systemType: config.systemType,
    window: config.window,
    enquireLinkMs: config.enquireLinkMs,
    submitTimeoutMs: config.submitTimeoutMs,
    bindWaitMs: config.bindWaitMs,
    reconnectInitialMs: config.reconnectInitialMs,
    reconnectMaxMs: config.reconnectMaxMs,
  };
}

/** The id bases receipts of this carrier use (for adapters/smpp-receipts.ts). */
export function receiptIdBases(config: SmppResolvedConfig) {
  return { text: config.receiptIdBase ?? config.idBase, tlv: config.idBase } as const;
}

/** The session surface the adapter needs (a real {@link SmppSession}, or a stand-in in tests). */
export type SmppSubmitter = Pick<SmppSession, 'submitPart'>;

/** Hooks of an SMPP adapter. */
export interface SmppAdapterDeps {
  /** The worker's bound session; absent in processes that never send (the API). */
  readonly session?: SmppSubmitter;
  /** Called with every part id the SMSC accepted (normalized), even when a later part fails. */
  readonly onPartAccepted?: (messageId: string, carrierMessageId: string) => void;
}

const NO_SESSION: CarrierError = {
  class: 'failover',
  code: 'carrier_unavailable',
  message: 'no SMPP session in this process (SMPP carriers send from the worker)',
};

/**
 * Builds the SMPP adapter for one carrier. Throws a ZodError on a bad config.
 *
 * @param deps.session - the bound session submits go through; without one every submit fails over.
 */
export function createSmppAdapter(config: SmppConfig, deps: SmppAdapterDeps = {}): CarrierAdapter {
  const cfg = smppConfigSchema.parse(config);
  let nextRef = randomInt(0, 256);

  return {
    kind: 'smpp',

    async submit(req: SubmitRequest): Promise<SubmitResult> {
      const session = deps.session;
      if (!session) return { ok: false, error: NO_SESSION };
      const ref = nextRef;
      nextRef = (nextRef + 1) % 256;
      const src = sourceAddress(req.from);
      const dst = destinationAddress(req.to);
      const parts = encodeParts(req.body, req.encoding, ref);
      const pdus: SubmitSmFields[] = parts.map((p) => ({
        service_type: cfg.serviceType,
        source_addr_ton: cfg.sourceTon ?? src.ton,
        source_addr_npi: cfg.sourceNpi ?? src.npi,
        source_addr: src.addr,
        dest_addr_ton: dst.ton,
        dest_addr_npi: dst.npi,
        destination_addr: dst.addr,
        esm_class: p.esmClass,
        data_coding: p.dataCoding,
        registered_delivery: REGISTERED_DELIVERY_FINAL,
        validity_period: relativeValidity(req.validitySeconds),
        short_message: p.shortMessage,
      }));

      const ids: string[] = [];
      for (const [i, pdu] of pdus.entries()) {
        let result = await session.submitPart(pdu);
        // A later part refused for a transient reason: only that part is sent again.
        for (let retry = 0; i > 0 && retry < cfg.partRetries && isTransient(result); retry++) {
          await new Promise((r) => setTimeout(r, (SMPP_THROTTLE_RETRY_MS / 4) * 2 ** retry));
          result = await session.submitPart(pdu);
        }
        if (result.ok) {
          const id = normalizeSmppId(result.messageId, cfg.idBase);
          ids.push(id);
          deps.onPartAccepted?.(req.messageId, id);
          continue;
        }
        const error = classifyPart(result);
        if (i === 0) return { ok: false, error };
        return {
          ok: false,
          error: {
            class: 'ambiguous',
            code: 'partial_submit',
            message: `part ${i + 1} of ${pdus.length} failed after ${i} part(s) were accepted (${ids.join(', ')}): ${error.message}`,
            ...(error.carrierCode ? { carrierCode: error.carrierCode } : {}),
          },
        };
      }
      const [first] = ids;
      if (first === undefined) return { ok: false, error: NO_SESSION };
      return {
        ok: true,
        carrierMessageId: first,
        segments: ids.length,
        receiptParts: ids.length,
        partIds: ids,
      };
    },

    parseReceipts(): never {
      throw new ReceiptParseError('SMPP receipts arrive as deliver_sm on the bind, not over HTTP');
    },

    verify(): boolean {
      return false;
    },
  };
}

function isTransient(r: PartResult): boolean {
  return !r.ok && r.reason === 'status' && classifyCommandStatus(r.commandStatus).class === 'retry';
}

/** One part's failure → Herald's error class. */
export function classifyPart(r: Exclude<PartResult, { ok: true }>): CarrierError {
  switch (r.reason) {
    case 'status':
      return classifyCommandStatus(r.commandStatus);
    case 'timeout':
      return {
        class: 'ambiguous',
        code: 'timeout',
        message: 'no submit_sm_resp in time; the SMSC may hold the message',
      };
    case 'connection_lost':
      return {
        class: 'ambiguous',
        code: 'connection_lost',
        message: 'the SMPP connection dropped after submit_sm was written',
      };
    case 'not_bound':
      return {
        class: 'failover',
        code: r.bindRefused ? 'auth_failed' : 'carrier_unavailable',
        message: `SMPP session not bound: ${r.detail}`,
        ...(r.carrierCode ? { carrierCode: r.carrierCode } : {}),
      };
  }
}
