/**
 * An SMPP 3.4 SMSC simulator (server side, on the `smpp` package): accepts `bind_transceiver`
 * with its configured credentials, answers `submit_sm` with ids in HEX and sends delivery
 * receipts (`deliver_sm`, esm_class 0x04) whose id is in DECIMAL — the quirk real SMSCs have —
 * one per segment. Faults and receipt quirks are set at start or at run time through the same
 * control surface as the HTTP simulators (`POST /_sim/config`, `GET /_sim/stats` on a small HTTP
 * control server, or `setConfig` / `stats` in process); `stop()` / `start()` kill and revive
 * the SMSC on the same port.
 */
import { randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import { z } from 'zod';
import { decodeShortMessage, encodeParts, sourceAddress } from '../adapters/smpp-encoding.ts';
import { MO_MESSAGE_ID_TLV } from '../adapters/smpp-inbound.ts';
import { analyzeBody } from '../domain/segments.ts';
import {
  applyConfigPatch,
  INBOUND_WAIT_MS,
  listenOn,
  pickWeighted,
  resolveSimStart,
  type SimBaseOptions,
  type SimInbound,
  settledWithin,
  simInboundSchema,
  simMs,
  simUrl,
  simWeight,
  weightMixSchema,
  yymmddhhmm,
} from './sim-core.ts';

const smscMixSchema = weightMixSchema({
  accept: simWeight.default(0),
  /** 0x58 ESME_RTHROTTLED. */
  throttle: simWeight.default(0),
  /** 0x14 ESME_RMSGQFUL. */
  queueFull: simWeight.default(0),
  /** 0x08 ESME_RSYSERR. */
  sysErr: simWeight.default(0),
  /** 0x0B ESME_RINVDSTADR. */
  invalidDest: simWeight.default(0),
  /** Taken (receipt follows) but never answered: the client's submit times out. */
  noResponse: simWeight.default(0),
  /** Taken, then the connection is dropped before the answer. */
  drop: simWeight.default(0),
});

const smscReceiptMixSchema = weightMixSchema({
  delivered: simWeight.default(0),
  undelivered: simWeight.default(0),
  expired: simWeight.default(0),
  rejected: simWeight.default(0),
  deleted: simWeight.default(0),
  unknown: simWeight.default(0),
  /** An intermediate ENROUTE receipt, then DELIVRD. */
  enroute: simWeight.default(0),
  none: simWeight.default(0),
});

/** A partial SMSC config, as `setConfig` and `POST /_sim/config` take it. Unknown keys are refused. */
export const smscConfigPatchSchema = z.strictObject({
  mix: smscMixSchema.optional(),
  /** The SMSC is dead: its port refuses connections and bound sessions are dropped. */
  down: z.boolean().optional(),
  /** Answer every bind with 0x0D ESME_RBINDFAIL. Default false. */
  rejectBind: z.boolean().optional(),
  /** Delay before every submit_sm_resp, ms. Default 0. */
  latencyMs: simMs.optional(),
  receipts: smscReceiptMixSchema.optional(),
  /** Delay from acceptance to the receipt, ms. Default 20. */
  receiptDelayMs: simMs.optional(),
  /** Send the receipt before the submit_sm_resp. Default false. */
  receiptBeforeResp: z.boolean().optional(),
  /** Base of the id in the receipt text. Default `decimal` (the quirk); `hex` = as in submit_sm_resp. */
  receiptIdBase: z.enum(['decimal', 'hex']).optional(),
  /** Write `Text:` instead of `text:`. Default false. */
  capitalText: z.boolean().optional(),
  /** Leave out `sub:` and `dlvrd:` (as Jasmin does). Default false. */
  omitSubDlvrd: z.boolean().optional(),
  /** Dates of 12 digits (with seconds). Default false. */
  longDates: z.boolean().optional(),
  /** Add the receipted_message_id (hex, as in submit_sm_resp) and message_state TLVs. Default false. */
  receiptTlvs: z.boolean().optional(),
});
export type SmscConfigPatch = z.input<typeof smscConfigPatchSchema>;
type SmscMix = z.output<typeof smscMixSchema>;
type SmscReceiptMix = z.output<typeof smscReceiptMixSchema>;
export type SmscFault = keyof SmscMix;
export type SmscReceiptOutcome = Exclude<keyof SmscReceiptMix, 'none'>;

/** The full, resolved SMSC configuration. */
export interface SmscConfig {
  readonly mix: SmscMix;
  readonly down: boolean;
  readonly rejectBind: boolean;
  readonly latencyMs: number;
  readonly receipts: SmscReceiptMix;
  readonly receiptDelayMs: number;
  readonly receiptBeforeResp: boolean;
  readonly receiptIdBase: 'decimal' | 'hex';
  readonly capitalText: boolean;
  readonly omitSubDlvrd: boolean;
  readonly longDates: boolean;
  readonly receiptTlvs: boolean;
}

export function defaultSmscConfig(): SmscConfig {
  return {
    mix: { accept: 1, throttle: 0, queueFull: 0, sysErr: 0, invalidDest: 0, noResponse: 0, drop: 0 },
    down: false,
    rejectBind: false,
    latencyMs: 0,
    receipts: {
      delivered: 1,
      undelivered: 0,
      expired: 0,
      rejected: 0,
      deleted: 0,
      unknown: 0,
      enroute: 0,
      none: 0,
    },
    receiptDelayMs: 20,
    receiptBeforeResp: false,
    receiptIdBase: 'decimal',
    capitalText: false,
    omitSubDlvrd: false,
    longDates: false,
    receiptTlvs: false,
  };
}

/** Validates a patch and applies it. Throws an Error listing the bad fields. */
export function applySmscConfigPatch(base: SmscConfig, patch: unknown): SmscConfig {
  return applyConfigPatch(smscConfigPatchSchema, base, patch, 'SMSC config');
}

export interface SmscStats {
  /** Successful binds. */
  binds: number;
  bindRejections: number;
  /** Bound sessions right now (a gauge). */
  sessions: number;
  /** submit_sm PDUs received from bound sessions (segments). */
  submissions: number;
  /** Messages taken in full (a multi-part message counts once all its parts are in). */
  messages: number;
  /** submit_sm taken (segments). */
  accepted: number;
  rejected: number;
  /** Segments taken whose destination and octets had been taken before. */
  duplicates: number;
  /** deliver_sm receipts written. */
  receiptsSent: number;
  /** deliver_sm answered ESME_ROK. */
  receiptsAcked: number;
  /** Inbound deliver_sm PDUs originated by `/_sim/inbound` (a duplicate counts twice). */
  inboundSent: number;
  /** Receipts scheduled and not yet answered ESME_ROK (a gauge: reset leaves it alone). */
  receiptsPending: number;
  /** Connections dropped by the `drop` fault or `dropConnections()`. */
  drops: number;
  faults: Record<SmscFault, number>;
}

function emptyStats(): SmscStats {
  return {
    binds: 0,
    bindRejections: 0,
    sessions: 0,
    submissions: 0,
    messages: 0,
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    inboundSent: 0,
    receiptsPending: 0,
    drops: 0,
    faults: { accept: 0, throttle: 0, queueFull: 0, sysErr: 0, invalidDest: 0, noResponse: 0, drop: 0 },
  };
}

/** A segment the SMSC took, for tests. */
export interface SmscSegment {
  readonly messageId: string;
  readonly to: string;
  readonly dataCoding: number;
  readonly esmClass: number;
  /** The text of this part (UDH removed, decoded). */
  readonly text: string;
  readonly concat?: { readonly ref: number; readonly total: number; readonly seq: number };
  /** When the submit_sm arrived (epoch ms). */
  readonly at: number;
}

export interface SmscOptions
  extends SimBaseOptions<{ readonly systemId: string; readonly password: string }, SmscConfigPatch> {
  /** Also start the HTTP control server (`/_sim/*`). Default true. */
  readonly control?: boolean;
}

export interface RunningSmsc {
  readonly host: string;
  /** The SMPP port (kept across stop/start). */
  readonly port: number;
  /** `http://host:port` of the control server; '' without one. */
  readonly controlUrl: string;
  stats(): SmscStats;
  config(): SmscConfig;
  setConfig(patch: SmscConfigPatch): void;
  resetStats(): void;
  /** Segments taken since the last reset, oldest first (the most recent 5 000). */
  segments(): readonly SmscSegment[];
  /** Drops every connection now (the SMSC stays up). */
  dropConnections(): void;
  /** Delivers a mobile-originated message to the bound ESME (`POST /_sim/inbound` does the same). */
  originate(
    mo: SimInbound & { readonly duplicate?: boolean },
  ): Promise<{ requests: number; delivered: boolean }>;
  /** Kills the SMSC: the port closes and bound sessions drop. */
  stop(): Promise<void>;
  /** Revives it on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const STAT_WORDS: Readonly<Record<SmscReceiptOutcome, string>> = {
  delivered: 'DELIVRD',
  undelivered: 'UNDELIV',
  expired: 'EXPIRED',
  rejected: 'REJECTD',
  deleted: 'DELETED',
  unknown: 'UNKNOWN',
  enroute: 'ENROUTE',
};
const MESSAGE_STATES: Readonly<Record<string, number>> = {
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
};
const ERR_CODES: Readonly<Record<string, string>> = {
  DELIVRD: '000',
  ENROUTE: '000',
  UNDELIV: '001',
  EXPIRED: '027',
  REJECTD: '011',
  DELETED: '012',
  UNKNOWN: '255',
};
const RECEIPT_RETRY_MS = 200;
const RECEIPT_ANSWER_MS = 5_000;
const MAX_SEGMENT_LOG = 5_000;

interface PendingReceipt {
  readonly systemId: string;
  /** The session the message came on: preferred while it is bound. */
  readonly origin: smpp.Session;
  readonly fields: Record<string, unknown>;
  /** Set for a mobile-originated message: called once the ESME acknowledged it (receipt stats untouched). */
  readonly onAcked?: () => void;
}

/** Starts an SMSC on a real socket (and its control server). */
export async function startSmscSimulator(opts: SmscOptions): Promise<RunningSmsc> {
  const initial = resolveSimStart(opts, defaultSmscConfig(), applySmscConfigPatch);
  const { host, rng } = initial;
  let config = initial.config;
  let stats = emptyStats();
  let seen = new Set<string>();
  let segmentLog: SmscSegment[] = [];
  /** Parts of multi-part messages seen so far, by source + destination + ref. */
  let partials = new Map<
    string,
    { total: number; seqs: Set<number>; outcome: SmscReceiptOutcome | 'none' }
  >();
  const bound = new Map<smpp.Session, string>();
  const waiting: PendingReceipt[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let nextId = 0x0a000000 + randomInt(0, 0x100000);
  let listening = false;
  let closed = false;

  const later = (delayMs: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, delayMs);
    timers.add(t);
  };

  const server = smpp.createServer({}, (session) => {
    // As a real SMSC would, and as Herald's side does (adapters/smpp-session.ts): a response
    // followed at once by a receipt must not wait for the client's delayed ACK.
    session.socket.setNoDelay(true);
    session.on('error', () => {
      // a client that went away: nothing to do
    });
    session.on('close', () => {
      bound.delete(session);
      stats.sessions = bound.size;
    });
    session.on('bind_transceiver', (pdu: smpp.PDU) => {
      const status = bindStatus(pdu);
      if (status !== 0) {
        stats.bindRejections++;
        session.send(pdu.response({ command_status: status }));
        return;
      }
      const systemId = String(pdu.system_id);
      bound.set(session, systemId);
      stats.binds++;
      stats.sessions = bound.size;
      session.send(pdu.response({ system_id: 'HeraldSMSC' }));
      flushWaiting();
    });
    for (const other of ['bind_transmitter', 'bind_receiver']) {
      session.on(other, (pdu: smpp.PDU) => session.send(pdu.response({ command_status: 0x0d })));
    }
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => {
      bound.delete(session);
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: smpp.PDU) => onSubmit(session, pdu));
  });

  function bindStatus(pdu: smpp.PDU): number {
    if (config.rejectBind) return 0x0d;
    if (pdu.system_id !== opts.credentials.systemId) return 0x0f;
    if (pdu.password !== opts.credentials.password) return 0x0e;
    return 0;
  }

  function onSubmit(session: smpp.Session, pdu: smpp.PDU): void {
    const systemId = bound.get(session);
    if (systemId === undefined) {
      session.send(pdu.response({ command_status: 0x04 }));
      return;
    }
    const cfg = config;
    stats.submissions++;
    const to = String(pdu.destination_addr ?? '');
    const { octets, text, udhConcat } = decodeShortMessage(pdu);
    const fault: SmscFault = /^[0-9]{6,15}$/.test(to) ? pickWeighted(rng, cfg.mix) : 'invalidDest';
    const statusOf: Partial<Record<SmscFault, number>> = {
      throttle: 0x58,
      queueFull: 0x14,
      sysErr: 0x08,
      invalidDest: 0x0b,
    };
    const refusal = statusOf[fault];
    if (refusal !== undefined) {
      stats.rejected++;
      stats.faults[fault]++;
      later(cfg.latencyMs, () => session.send(pdu.response({ command_status: refusal })));
      return;
    }

    // From here the SMSC holds the segment, whatever happens to the answer.
    stats.accepted++;
    stats.faults[fault]++;
    const dupKey = `${to}|${octets.toString('hex')}`;
    if (seen.has(dupKey)) stats.duplicates++;
    else seen.add(dupKey);
    const n = nextId++;
    const hexId = n.toString(16).toUpperCase().padStart(10, '0');
    segmentLog.push({
      messageId: hexId,
      to,
      dataCoding: Number(pdu.data_coding ?? 0),
      esmClass: Number(pdu.esm_class ?? 0),
      text,
      ...(udhConcat ? { concat: udhConcat } : {}),
      at: Date.now(),
    });
    if (segmentLog.length > MAX_SEGMENT_LOG) segmentLog = segmentLog.slice(-MAX_SEGMENT_LOG);

    // One outcome per message: the parts of a concatenated message share it.
    let outcome: SmscReceiptOutcome | 'none';
    if (udhConcat) {
      const key = `${String(pdu.source_addr)}|${to}|${udhConcat.ref}|${udhConcat.total}`;
      let partial = partials.get(key);
      if (!partial) {
        partial = { total: udhConcat.total, seqs: new Set(), outcome: pickWeighted(rng, cfg.receipts) };
        partials.set(key, partial);
      }
      partial.seqs.add(udhConcat.seq);
      outcome = partial.outcome;
      if (partial.seqs.size >= partial.total) {
        stats.messages++;
        partials.delete(key);
      }
    } else {
      stats.messages++;
      outcome = pickWeighted(rng, cfg.receipts);
    }

    if (outcome !== 'none' && pdu.registered_delivery) {
      const receipts = receiptFields(cfg, hexId, n, outcome, text, to, String(pdu.source_addr ?? ''));
      for (const [i, r] of receipts.entries()) {
        const receipt = { systemId, origin: session, fields: r };
        stats.receiptsPending++;
        if (cfg.receiptBeforeResp) deliver(receipt);
        else later(cfg.receiptDelayMs * (i + 1), () => deliver(receipt));
      }
    }
    if (fault === 'noResponse') return;
    if (fault === 'drop') {
      stats.drops++;
      session.socket.destroy();
      return;
    }
    const answer = () => session.send(pdu.response({ message_id: hexId }));
    if (cfg.latencyMs > 0) later(cfg.latencyMs, answer);
    else answer();
  }

  /** The deliver_sm fields of the receipt(s) for one segment (ENROUTE adds an intermediate one). */
  function receiptFields(
    cfg: SmscConfig,
    hexId: string,
    n: number,
    outcome: SmscReceiptOutcome,
    text: string,
    to: string,
    from: string,
  ): Array<Record<string, unknown>> {
    const words: string[] = outcome === 'enroute' ? ['ENROUTE', 'DELIVRD'] : [STAT_WORDS[outcome]];
    const now = new Date();
    const date = cfg.longDates
      ? `${yymmddhhmm(now)}${String(now.getUTCSeconds()).padStart(2, '0')}`
      : yymmddhhmm(now);
    const textId = cfg.receiptIdBase === 'decimal' ? String(n).padStart(16, '0') : hexId;
    const snippet = text.replace(/[^\x20-\x7e]/g, '.').slice(0, 20);
    return words.map((stat) => {
      const dlvrd = stat === 'DELIVRD' ? '001' : '000';
      const subDlvrd = cfg.omitSubDlvrd ? '' : `sub:001 dlvrd:${dlvrd} `;
      const body =
        `id:${textId} ${subDlvrd}submit date:${date} done date:${date} stat:${stat} ` +
        `err:${ERR_CODES[stat] ?? '000'} ${cfg.capitalText ? 'Text' : 'text'}:${snippet}`;
      return {
        // A receipt goes from the handset back to the ESME: addresses are swapped.
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: to,
        dest_addr_ton: 5,
        dest_addr_npi: 0,
        destination_addr: from,
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from(body, 'latin1'),
        ...(cfg.receiptTlvs ? { receipted_message_id: hexId, message_state: MESSAGE_STATES[stat] ?? 7 } : {}),
      };
    });
  }

  /** Sends a receipt to a bound session of its system id; waits for one when none is bound. */
  function deliver(receipt: PendingReceipt): void {
    if (closed) return;
    const session = bound.has(receipt.origin)
      ? receipt.origin
      : [...bound.entries()].find(([, id]) => id === receipt.systemId)?.[0];
    if (!session) {
      waiting.push(receipt);
      return;
    }
    let answered = false;
    const retry = (): void => later(RECEIPT_RETRY_MS, () => deliver(receipt));
    const sent = session.send(new smpp.PDU('deliver_sm', { ...receipt.fields }), (resp) => {
      if (answered) return;
      answered = true;
      if (resp.command_status !== 0) retry();
      else if (receipt.onAcked) receipt.onAcked();
      else {
        stats.receiptsAcked++;
        stats.receiptsPending--;
      }
    });
    if (!sent) {
      answered = true;
      retry();
      return;
    }
    if (!receipt.onAcked) stats.receiptsSent++;
    later(RECEIPT_ANSWER_MS, () => {
      if (answered) return;
      answered = true;
      retry();
    });
  }

  function flushWaiting(): void {
    for (const r of waiting.splice(0)) deliver(r);
  }

  const listen = (port: number): Promise<void> => listenOn(server, port, host);

  await listen(opts.port ?? 0);
  listening = true;
  const port = (server.address() as AddressInfo).port;

  function dropConnections(): void {
    for (const s of [...server.sessions]) {
      stats.drops++;
      bound.delete(s);
      s.socket.destroy();
    }
    stats.sessions = bound.size;
  }

  async function stop(): Promise<void> {
    if (!listening) return;
    listening = false;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of [...server.sessions]) s.socket.destroy();
    bound.clear();
    stats.sessions = 0;
    await done;
  }

  async function start(): Promise<void> {
    if (listening || closed) return;
    await listen(port);
    listening = true;
  }

  function setConfig(patch: unknown): SmscConfig {
    const next = applySmscConfigPatch(config, patch);
    const wasDown = config.down;
    config = next;
    if (next.down && !wasDown) void stop();
    if (!next.down && wasDown) void start();
    return next;
  }

  function resetStats(): void {
    stats = { ...emptyStats(), sessions: bound.size, receiptsPending: stats.receiptsPending };
    seen = new Set();
    segmentLog = [];
    partials = new Map();
  }

  if (config.down) {
    config = { ...config, down: false };
    setConfig({ down: true });
  }

  /**
   * Delivers an MO to the first bound ESME as `deliver_sm` (one per part: concatenation UDH,
   * data_coding by alphabet, the vendor TLV `mo_message_id`), redelivered until acknowledged.
   * Resolves once every part was acknowledged, or after {@link INBOUND_WAIT_MS} with false.
   */
  async function originate(raw: unknown): Promise<{ requests: number; delivered: boolean }> {
    const mo = simInboundSchema.parse(raw);
    const [session, systemId] = [...bound.entries()][0] ?? [];
    if (!session || systemId === undefined) throw new Error('no ESME is bound');
    const parts = encodeParts(mo.text, analyzeBody(mo.text).encoding, randomInt(0, 256));
    const from = sourceAddress(mo.from);
    const to = sourceAddress(mo.to);
    const acks: Array<Promise<void>> = [];
    for (const part of parts) {
      const id = (nextId++).toString(16).toUpperCase();
      for (let copy = 0; copy < (mo.duplicate ? 2 : 1); copy++) {
        acks.push(
          new Promise<void>((resolve) =>
            deliver({
              systemId,
              origin: session,
              onAcked: resolve,
              fields: {
                source_addr_ton: from.ton,
                source_addr_npi: from.npi,
                source_addr: from.addr,
                dest_addr_ton: to.ton,
                dest_addr_npi: to.npi,
                destination_addr: to.addr,
                esm_class: part.esmClass,
                data_coding: part.dataCoding,
                short_message: part.shortMessage,
                [MO_MESSAGE_ID_TLV.tag]: id,
              },
            }),
          ),
        );
      }
    }
    stats.inboundSent += acks.length;
    return { requests: acks.length, delivered: await settledWithin(Promise.all(acks), INBOUND_WAIT_MS) };
  }

  const control =
    opts.control === false
      ? undefined
      : await startControlServer(host, {
          config: () => config,
          setConfig,
          stats: () => ({ ...stats }),
          reset: () => {
            resetStats();
            return { ...stats };
          },
          drop: () => {
            dropConnections();
            return { ...stats };
          },
          originate,
        });

  return {
    host,
    port,
    controlUrl: control?.url ?? '',
    stats: () => structuredClone(stats),
    config: () => structuredClone(config),
    setConfig(patch) {
      setConfig(patch);
    },
    resetStats,
    segments: () => [...segmentLog],
    dropConnections,
    originate,
    stop,
    start,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await stop();
      await control?.close();
    },
  };
}

interface ControlHandlers {
  config(): SmscConfig;
  setConfig(patch: unknown): SmscConfig;
  stats(): SmscStats;
  reset(): SmscStats;
  drop(): SmscStats;
  originate(mo: unknown): Promise<{ requests: number; delivered: boolean }>;
}

/** `/_sim/config` (GET, POST), `/_sim/stats`, `/_sim/reset`, `/_sim/drop` on 127.0.0.1. */
async function startControlServer(
  host: string,
  h: ControlHandlers,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (path === '/_sim/config' && req.method === 'GET') return send(200, h.config());
      if (path === '/_sim/config' && req.method === 'POST') {
        try {
          return send(200, h.setConfig(body.trim() === '' ? {} : JSON.parse(body)));
        } catch (err) {
          return send(400, { error: { code: 'invalid_request', message: (err as Error).message } });
        }
      }
      if (path === '/_sim/stats' && req.method === 'GET') return send(200, h.stats());
      if (path === '/_sim/reset' && req.method === 'POST') return send(200, h.reset());
      if (path === '/_sim/drop' && req.method === 'POST') return send(200, h.drop());
      if (path === '/_sim/inbound' && req.method === 'POST') {
        try {
          return send(200, await h.originate(body.trim() === '' ? {} : JSON.parse(body)));
        } catch (err) {
          return send(400, { error: { code: 'invalid_request', message: (err as Error).message } });
        }
      }
      return send(404, {
        error: { code: 'not_found', message: `no control endpoint ${req.method} ${path}` },
      });
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: simUrl(host, port),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
