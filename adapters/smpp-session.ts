/**
 * One SMPP 3.4 client session (ESME side), a typed wrapper over the `smpp` package:
 * `bind_transceiver`, an `enquire_link` keep-alive, reconnection with exponential backoff after
 * a drop or a refused bind, a window of in-flight PDUs, and a token bucket holding the carrier's
 * TPS (in segments, i.e. `submit_sm` PDUs) across everything sent on this session. Receipts
 * (`deliver_sm`) are handed to `onReceipt` and answered with `deliver_sm_resp` once handled.
 */
import smpp from 'smpp';
import { type DeliverSmFields, isDeliveryReceipt } from './smpp-receipts.ts';
import { commandStatusName, formatCommandStatus } from './smpp-status.ts';

export type SmppSessionState = 'bound' | 'connecting' | 'down';

/** The `submit_sm` fields of one part (SMPP 3.4 parameter names; `short_message` as octets). */
export interface SubmitSmFields {
  readonly source_addr_ton: number;
  readonly source_addr_npi: number;
  readonly source_addr: string;
  readonly dest_addr_ton: number;
  readonly dest_addr_npi: number;
  readonly destination_addr: string;
  readonly esm_class: number;
  readonly data_coding: number;
  readonly registered_delivery: number;
  readonly short_message: Buffer;
  readonly service_type?: string;
  readonly validity_period?: string;
}

/** What became of one `submit_sm`. */
export type PartResult =
  | { readonly ok: true; readonly messageId: string }
  /** The SMSC answered with a non-zero command_status (or a generic_nack). */
  | { readonly ok: false; readonly reason: 'status'; readonly commandStatus: number }
  /** Written, but no `submit_sm_resp` within the submit timeout: the SMSC may hold it. */
  | { readonly ok: false; readonly reason: 'timeout' }
  /** Written, then the connection dropped before the response: the SMSC may hold it. */
  | { readonly ok: false; readonly reason: 'connection_lost' }
  /** Never written: no bound session (detail says why, e.g. the bind's command_status). */
  | {
      readonly ok: false;
      readonly reason: 'not_bound';
      readonly detail: string;
      readonly carrierCode?: string;
      readonly bindRefused?: boolean;
    };

/** A receipt `deliver_sm` as decoded, and what to answer it with. */
export type ReceiptHandler = (pdu: DeliverSmFields) => Promise<void>;

export interface SmppSessionOptions {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  /** Default ''. */
  readonly systemType?: string;
  /** In-flight PDUs awaiting a response; callers wait for a free slot. Default 10. */
  readonly window?: number;
  /** `submit_sm` PDUs per second on this session (a token bucket, burst 1 s). Default unlimited. */
  readonly tps?: number;
  /** Keep-alive period; a missing `enquire_link_resp` within it drops the connection. Default 15 000. */
  readonly enquireLinkMs?: number;
  /** Wait for a `submit_sm_resp` after the PDU was written. Default 10 000. */
  readonly submitTimeoutMs?: number;
  /** Wait for `bind_transceiver_resp`. Default 5 000. */
  readonly bindTimeoutMs?: number;
  /** How long a submit waits for a bind in progress before giving up (`not_bound`). Default 1 000. */
  readonly bindWaitMs?: number;
  /** First reconnect delay, doubled per failure up to `reconnectMaxMs`. Defaults 250 and 30 000. */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  /**
   * Handles a receipt `deliver_sm`. Resolves → `deliver_sm_resp` ESME_ROK; rejects → 0x64
   * ESME_RX_T_APPN so the SMSC delivers it again. Default: acknowledge and drop.
   */
  readonly onReceipt?: ReceiptHandler;
  /**
   * Handles a `deliver_sm` that is not a receipt (a mobile-originated message or part), answered
   * like a receipt: resolves → ESME_ROK; rejects → ESME_RX_T_APPN (the SMSC delivers it again).
   * Default: acknowledge and drop.
   */
  readonly onInbound?: ReceiptHandler;
  /** Every state change. */
  readonly onState?: (state: SmppSessionState) => void;
  /** Log lines (never a phone number or a body). Default: silent. */
  readonly log?: (
    level: 'debug' | 'info' | 'warn' | 'error',
    msg: string,
    fields?: Record<string, unknown>,
  ) => void;
}

/** Refill-on-demand token bucket: `rate` tokens per second, holding at most `capacity`. */
class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
  ) {
    this.tokens = capacity;
  }

  /** Resolves when a token is taken; callers are served in order. */
  take(): Promise<void> {
    if (!Number.isFinite(this.rate)) return Promise.resolve();
    const turn = this.queue.then(async () => {
      for (;;) {
        const now = Date.now();
        this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
        this.last = now;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await delay(Math.ceil(((1 - this.tokens) / this.rate) * 1000));
      }
    });
    this.queue = turn;
    return turn;
  }
}

/** A counting semaphore: the window of in-flight PDUs. */
class Window {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used = Math.max(0, this.used - 1);
  }

  get inFlight(): number {
    return this.used;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A reconnecting SMPP transceiver session. Call {@link SmppSession.start} once, {@link SmppSession.close} at the end. */
export class SmppSession {
  private readonly opts: Required<
    Omit<SmppSessionOptions, 'onReceipt' | 'onInbound' | 'onState' | 'log' | 'tps'>
  > &
    SmppSessionOptions;
  private current: smpp.Session | undefined;
  private stateNow: SmppSessionState = 'down';
  private closed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private enquireTimer: NodeJS.Timeout | undefined;
  private readonly window: Window;
  private readonly bucket: TokenBucket;
  /** Requests written on the current connection, failed with `connection_lost` if it drops. */
  private readonly inFlight = new Set<(r: PartResult) => void>();
  private readonly bindWaiters = new Set<() => void>();
  private lastBindError: { detail: string; carrierCode?: string; bindRefused: boolean } = {
    detail: 'not connected yet',
    bindRefused: false,
  };
  private counters = { binds: 0, bindFailures: 0, drops: 0, submits: 0, receipts: 0 };

  constructor(options: SmppSessionOptions) {
    this.opts = {
      systemType: '',
      window: 10,
      enquireLinkMs: 15_000,
      submitTimeoutMs: 10_000,
      bindTimeoutMs: 5_000,
      bindWaitMs: 1_000,
      reconnectInitialMs: 250,
      reconnectMaxMs: 30_000,
      ...options,
    };
    this.window = new Window(Math.max(1, this.opts.window));
    const tps = options.tps ?? Number.POSITIVE_INFINITY;
    this.bucket = new TokenBucket(tps, Math.max(1, tps));
  }

  /** `bound`: submits go out; `connecting`: a connect or bind is in progress; `down`: neither. */
  get state(): SmppSessionState {
    return this.stateNow;
  }

  /** Counters since start: binds, bind failures, connection drops, submits written, receipts. */
  stats(): Readonly<{
    binds: number;
    bindFailures: number;
    drops: number;
    submits: number;
    receipts: number;
    inFlight: number;
  }> {
    return { ...this.counters, inFlight: this.window.inFlight };
  }

  /** Opens the connection and binds; later drops reconnect by themselves until {@link close}. */
  start(): void {
    if (this.closed || this.current || this.reconnectTimer) return;
    this.connect();
  }

  /** Resolves once bound, or false after `timeoutMs`. */
  async waitForBind(timeoutMs: number): Promise<boolean> {
    if (this.stateNow === 'bound') return true;
    if (timeoutMs <= 0 || this.closed) return false;
    return new Promise<boolean>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.bindWaiters.delete(done);
        resolve(this.stateNow === 'bound');
      };
      const timer = setTimeout(done, timeoutMs);
      this.bindWaiters.add(done);
    });
  }

  /**
   * Submits the parts of one message in order, stopping at the first one that fails (later parts
   * are not sent). Results are per part attempted.
   */
  async submit(parts: readonly SubmitSmFields[]): Promise<PartResult[]> {
    const results: PartResult[] = [];
    for (const part of parts) {
      const r = await this.submitPart(part);
      results.push(r);
      if (!r.ok) break;
    }
    return results;
  }

  /** Sends one `submit_sm` through the window and the TPS bucket and waits for its response. */
  async submitPart(part: SubmitSmFields): Promise<PartResult> {
    if (this.stateNow !== 'bound') {
      // A bind in progress is worth a short wait; a session that is down fails over at once.
      if (this.stateNow !== 'connecting' || !(await this.waitForBind(this.opts.bindWaitMs))) {
        return this.notBound();
      }
    }
    await this.window.acquire();
    try {
      await this.bucket.take();
      return await this.send(part);
    } finally {
      this.window.release();
    }
  }

  private notBound(): PartResult {
    const e = this.closed ? { detail: 'session closed', bindRefused: false } : this.lastBindError;
    return {
      ok: false,
      reason: 'not_bound',
      detail: e.detail,
      bindRefused: e.bindRefused,
      ...('carrierCode' in e && e.carrierCode ? { carrierCode: e.carrierCode } : {}),
    };
  }

  private send(part: SubmitSmFields): Promise<PartResult> {
    const session = this.current;
    if (!session || this.stateNow !== 'bound') return Promise.resolve(this.notBound());
    return new Promise<PartResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (r: PartResult): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.inFlight.delete(settle);
        resolve(r);
      };
      const pdu = new smpp.PDU('submit_sm', { ...part });
      const written = session.send(
        pdu,
        (resp) => {
          if (resp.command_status === 0 && typeof resp.message_id === 'string') {
            settle({ ok: true, messageId: resp.message_id });
          } else {
            settle({ ok: false, reason: 'status', commandStatus: resp.command_status || 0xff });
          }
        },
        () => {
          this.counters.submits++;
          // The clock starts once the PDU is on the wire: from here the SMSC may hold it.
          timer = setTimeout(() => settle({ ok: false, reason: 'timeout' }), this.opts.submitTimeoutMs);
        },
      );
      if (!written) {
        settle(this.notBound());
        return;
      }
      this.inFlight.add(settle);
    });
  }

  /** Unbinds (briefly, best effort) and closes; no reconnect afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopEnquireLink();
    const session = this.current;
    if (session && this.stateNow === 'bound') {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 500);
        const sent = session.send(new smpp.PDU('unbind'), () => {
          clearTimeout(t);
          resolve();
        });
        if (!sent) {
          clearTimeout(t);
          resolve();
        }
      });
    }
    this.dropConnection();
    this.setState('down');
    for (const wake of [...this.bindWaiters]) wake();
  }

  private setState(next: SmppSessionState): void {
    if (this.stateNow === next) return;
    this.stateNow = next;
    this.opts.onState?.(next);
    // Waiters learn the outcome of a bind attempt either way (bound, or down again).
    if (next !== 'connecting') for (const wake of [...this.bindWaiters]) wake();
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    this.setState('connecting');
    const session = smpp.connect({ host: this.opts.host, port: this.opts.port });
    // Every PDU is one small write and most wait for an answer: with Nagle's algorithm on, a PDU
    // written while the previous one is unacknowledged waits for the SMSC's delayed ACK (~40 ms
    // on Linux; bench/smpp-round-trip.ts measures it).
    session.socket.setNoDelay(true);
    this.current = session;
    let bindTimer: NodeJS.Timeout | undefined;
    let lost = false;
    const onLost = (why: string, err?: unknown): void => {
      if (lost) return;
      lost = true;
      if (bindTimer) clearTimeout(bindTimer);
      if (this.current !== session) return;
      const wasBound = this.stateNow === 'bound';
      if (wasBound) {
        this.counters.drops++;
        this.lastBindError = { detail: `connection lost: ${why}`, bindRefused: false };
      } else if (!this.lastBindError.bindRefused || why !== 'closed') {
        const code = (err as NodeJS.ErrnoException | undefined)?.code;
        this.lastBindError = {
          detail: `cannot connect to ${this.opts.host}:${this.opts.port}: ${why}`,
          bindRefused: false,
          ...(code ? { carrierCode: code } : {}),
        };
      }
      this.opts.log?.(wasBound ? 'warn' : 'debug', 'smpp connection lost', { why });
      this.dropConnection();
      this.scheduleReconnect();
    };
    session.on('error', (err: Error) => onLost(err.message, err));
    session.on('close', () => onLost('closed'));
    session.on('connect', () => {
      bindTimer = setTimeout(() => {
        this.lastBindError = { detail: 'no bind_transceiver_resp in time', bindRefused: false };
        session.destroy();
      }, this.opts.bindTimeoutMs);
      const bind = new smpp.PDU('bind_transceiver', {
        system_id: this.opts.systemId,
        password: this.opts.password,
        system_type: this.opts.systemType,
        interface_version: 0x34,
      });
      session.send(bind, (resp) => {
        if (bindTimer) clearTimeout(bindTimer);
        if (resp.command_status !== 0) {
          this.counters.bindFailures++;
          const code = formatCommandStatus(resp.command_status);
          this.lastBindError = {
            detail: `bind refused: ${commandStatusName(resp.command_status)}`,
            carrierCode: code,
            bindRefused: true,
          };
          this.opts.log?.('warn', 'smpp bind refused', { commandStatus: code });
          session.destroy();
          return;
        }
        this.counters.binds++;
        this.attempt = 0;
        this.setState('bound');
        this.startEnquireLink(session);
        this.opts.log?.('info', 'smpp bound', { host: this.opts.host, port: this.opts.port });
      });
    });
    session.on('deliver_sm', (pdu: smpp.PDU) => void this.onDeliverSm(session, pdu));
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => {
      session.send(pdu.response());
      session.close();
    });
  }

  private async onDeliverSm(session: smpp.Session, pdu: smpp.PDU): Promise<void> {
    let status = 0;
    const receipt = isDeliveryReceipt(pdu.esm_class);
    const handler = receipt ? this.opts.onReceipt : this.opts.onInbound;
    if (handler) {
      if (receipt) this.counters.receipts++;
      try {
        await handler(pdu as DeliverSmFields);
      } catch (err) {
        // Not handled (database or Temporal down): the SMSC keeps it and delivers it again.
        status = 0x64;
        this.opts.log?.(
          'warn',
          `smpp ${receipt ? 'receipt' : 'inbound message'} not handled; asking the SMSC to retry`,
          {
            error: String(err),
          },
        );
      }
    }
    session.send(pdu.response(status === 0 ? {} : { command_status: status }));
  }

  private startEnquireLink(session: smpp.Session): void {
    this.stopEnquireLink();
    this.enquireTimer = setInterval(() => {
      let answered = false;
      const sent = session.send(new smpp.PDU('enquire_link'), () => {
        answered = true;
      });
      if (!sent) return;
      const check = setTimeout(() => {
        if (!answered && this.current === session) {
          this.opts.log?.('warn', 'smpp enquire_link unanswered; reconnecting');
          session.destroy();
        }
      }, this.opts.enquireLinkMs);
      check.unref();
    }, this.opts.enquireLinkMs);
    this.enquireTimer.unref();
  }

  private stopEnquireLink(): void {
    if (this.enquireTimer) clearInterval(this.enquireTimer);
    this.enquireTimer = undefined;
  }

  private dropConnection(): void {
    this.stopEnquireLink();
    const session = this.current;
    this.current = undefined;
    for (const settle of [...this.inFlight]) settle({ ok: false, reason: 'connection_lost' });
    this.inFlight.clear();
    if (session) {
      session.removeAllListeners('close');
      session.on('error', () => {});
      session.destroy();
    }
    if (!this.closed) this.setState('down');
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const wait = Math.min(this.opts.reconnectInitialMs * 2 ** this.attempt, this.opts.reconnectMaxMs);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }
}
