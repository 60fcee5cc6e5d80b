/** Message statuses, Twilio-aligned (DESIGN §3). */
export const MESSAGE_STATUSES = [
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'canceled',
  'expired',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<MessageStatus> = new Set([
  'delivered',
  'undelivered',
  'failed',
  'canceled',
  'expired',
]);

/**
 * Allowed moves. `sent → sent` is absent on purpose: repeating a status is a no-op, not an event.
 * Late receipts may still turn `expired` into `delivered` / `undelivered`: the carrier has the
 * final word on what happened to the handset.
 */
const TRANSITIONS: Readonly<Record<MessageStatus, readonly MessageStatus[]>> = {
  accepted: ['scheduled', 'queued', 'failed', 'canceled'],
  scheduled: ['queued', 'failed', 'canceled'],
  // `expired`: an operator's cancel (`canceled_by_operator`) or the validity's end while a submit
  // that never got to write its attempt row was still in the carrier's line.
  queued: ['sending', 'failed', 'canceled', 'expired'],
  sending: ['sent', 'queued', 'delivered', 'undelivered', 'failed', 'expired'],
  sent: ['delivered', 'undelivered', 'failed', 'expired'],
  delivered: [],
  undelivered: [],
  failed: [],
  canceled: [],
  expired: ['delivered', 'undelivered'],
};

export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: MessageStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
