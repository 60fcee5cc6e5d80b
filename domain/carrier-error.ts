/**
 * The normalized error taxonomy every carrier adapter maps its own codes onto (DESIGN §5).
 * The raw carrier code and text always travel next to the class so operators can see why.
 */
export type CarrierErrorClass = 'retry' | 'failover' | 'permanent' | 'ambiguous';

export interface CarrierError {
  readonly class: CarrierErrorClass;
  /** Our snake_case code, e.g. `invalid_number`, `throttled`, `carrier_unavailable`. */
  readonly code: string;
  /** Human-readable text (the carrier's own text where it gave one). */
  readonly message: string;
  /** The carrier's raw code as a string (`21211`, `1`, `0x58`, `HTTP 503`), when there is one. */
  readonly carrierCode?: string;
  /** Honour the carrier's Retry-After when it sends one. */
  readonly retryAfterMs?: number;
}

/**
 * Code of the answer a local submit gives when it should not send from here: the carrier's line
 * is longer than a local activity may wait, or this worker has no adapter for it. Nothing was
 * sent or recorded; the workflow queues the submit on the carrier's task queue instead.
 */
export const USE_CARRIER_QUEUE = 'use_carrier_queue';
