/**
 * The worker's SMPP binds (DESIGN §2, §5): one reconnecting session per enabled SMPP carrier,
 * shared by every submit activity of this process, and the receipts that arrive on it.
 *
 * Receipts take the webhook's path (services/receipt-intake.ts). Matching a receipt to its
 * message: part ids this process submitted recently are known in memory (also those of a
 * message whose later part failed); older ones are in `message_parts`. A receipt that beats its
 * `submit_sm_resp` matches nothing yet: it is stored at once (message unknown), kept in a pending
 * buffer, and handed over again as soon as a submit reports its id (or dropped after
 * {@link PENDING_RECEIPT_MS}; it stays in `receipts` for operators).
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { checkInboundPart } from '../adapters/inbound.ts';
import { createSmppAdapter, receiptIdBases, smppConfigSchema, smppSessionOptions } from '../adapters/smpp.ts';
import { parseDeliverSmInbound } from '../adapters/smpp-inbound.ts';
import { parseDeliverSmReceipt, rawReceiptRecord, type SmppReceipt } from '../adapters/smpp-receipts.ts';
import { SmppSession, type SmppSessionState } from '../adapters/smpp-session.ts';
import { type CarrierAdapter, type InboundPart, ReceiptParseError } from '../adapters/types.ts';
import { findMessageIdByCarrierMessageId } from '../db/messages.ts';
import type { Database } from '../db/schema.ts';
import type { LogFn } from '../observability/logger.ts';
import { ingestInbound } from '../services/inbound-intake.ts';
import { ingestReceipts } from '../services/receipt-intake.ts';

/** How long a receipt that arrived before its submit_sm_resp waits for a match. */
export const PENDING_RECEIPT_MS = 60_000;
/** Part ids remembered in memory per carrier (older ones are looked up in the database). */
const RECENT_IDS = 50_000;

/** A carrier row as the sessions need it. */
export interface SmppCarrier {
  readonly id: string;
  readonly kind: string;
  readonly config: unknown;
  /** Segments per second across this worker's session. */
  readonly tps: number;
}

export interface SmppSessionsDeps {
  readonly db: Kysely<Database>;
  /** Signals receipts to message workflows. */
  readonly temporal: Client;
  /** Default: silent. */
  readonly log?: LogFn;
}

/** The running sessions of one worker process. */
export interface SmppSessions {
  /** Carrier ids with a session. */
  readonly carrierIds: readonly string[];
  /** The adapter bound to the carrier's session; undefined for a carrier that is not SMPP. */
  adapterFor(carrierId: string): CarrierAdapter | undefined;
  /** Session state per carrier. */
  state(carrierId: string): SmppSessionState | undefined;
  /** Unbinds and closes every session. */
  close(): Promise<void>;
}

interface Pending {
  readonly receipt: SmppReceipt;
  readonly raw: string;
  readonly until: number;
}

/**
 * Opens one session per SMPP carrier (`kind === 'smpp'`; others are ignored) and starts binding.
 * Throws an Error naming the carrier when its config is invalid.
 */
export function startSmppSessions(carriers: readonly SmppCarrier[], deps: SmppSessionsDeps): SmppSessions {
  const running = new Map<string, { session: SmppSession; adapter: CarrierAdapter; sweep: NodeJS.Timeout }>();
  for (const carrier of carriers) {
    if (carrier.kind !== 'smpp') continue;
    const parsed = smppConfigSchema.safeParse(carrier.config ?? {});
    if (!parsed.success) {
      const fields = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`)
        .join('; ');
      throw new Error(`carrier "${carrier.id}" (smpp): invalid config: ${fields}`);
    }
    running.set(carrier.id, startOne(carrier, parsed.data, deps));
  }
  return {
    carrierIds: [...running.keys()],
    adapterFor: (id) => running.get(id)?.adapter,
    state: (id) => running.get(id)?.session.state,
    async close() {
      await Promise.all(
        [...running.values()].map(async (r) => {
          clearInterval(r.sweep);
          await r.session.close();
        }),
      );
    },
  };
}

function startOne(
  carrier: SmppCarrier,
  config: ReturnType<typeof smppConfigSchema.parse>,
  deps: SmppSessionsDeps,
): { session: SmppSession; adapter: CarrierAdapter; sweep: NodeJS.Timeout } {
  const bases = receiptIdBases(config);
  const recent = new Map<string, string>();
  const pending = new Map<string, Pending[]>();
  const log = deps.log;

  const ingest = (receipt: SmppReceipt, raw: string, messageId?: string) =>
    ingestReceipts(deps, carrier.id, [messageId ? { ...receipt, messageId } : receipt], raw);

  const remember = (messageId: string, partId: string): void => {
    recent.set(partId, messageId);
    if (recent.size > RECENT_IDS) {
      const oldest = recent.keys().next().value;
      if (oldest !== undefined) recent.delete(oldest);
    }
    const waiting = pending.get(partId);
    if (!waiting) return;
    pending.delete(partId);
    for (const p of waiting) {
      ingest(p.receipt, p.raw, messageId).catch((err: unknown) =>
        log?.('warn', 'smpp early receipt could not be delivered', {
          carrierId: carrier.id,
          error: String(err),
        }),
      );
    }
  };

  const session = new SmppSession({
    ...smppSessionOptions(config),
    tps: carrier.tps,
    ...(log ? { log } : {}),
    onState: (state) => log?.('info', 'smpp session state', { carrierId: carrier.id, state }),
    async onInbound(pdu) {
      let part: InboundPart;
      try {
        part = checkInboundPart(parseDeliverSmInbound(pdu));
      } catch (err) {
        // Answered all the same: a malformed message sent again is still malformed.
        if (err instanceof ReceiptParseError) {
          log?.('warn', 'smpp inbound message unreadable', { carrierId: carrier.id, error: err.message });
          return;
        }
        throw err;
      }
      await ingestInbound(deps, carrier.id, [part]);
    },
    async onReceipt(pdu) {
      let receipt: SmppReceipt;
      try {
        receipt = parseDeliverSmReceipt(pdu, bases);
      } catch (err) {
        // Answered all the same: a malformed receipt sent again is still malformed.
        if (err instanceof ReceiptParseError) {
          log?.('warn', 'smpp receipt unreadable', { carrierId: carrier.id, error: err.message });
          return;
        }
        throw err;
      }
      const raw = rawReceiptRecord(pdu);
      const id = receipt.carrierMessageId;
      const known =
        recent.get(id) ?? (await findMessageIdByCarrierMessageId(deps.db, carrier.id, id)) ?? recent.get(id);
      if (known) {
        await ingest(receipt, raw, known);
        return;
      }
      // Before its submit_sm_resp: stored now, matched when the submit reports the id.
      const list = pending.get(id) ?? [];
      list.push({ receipt, raw, until: Date.now() + PENDING_RECEIPT_MS });
      pending.set(id, list);
      await ingest(receipt, raw);
    },
  });
  const adapter = createSmppAdapter(config, { session, onPartAccepted: remember });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, list] of pending) {
      const alive = list.filter((p) => p.until > now);
      if (alive.length === 0) pending.delete(id);
      else pending.set(id, alive);
    }
  }, 10_000);
  sweep.unref();
  session.start();
  return { session, adapter, sweep };
}
