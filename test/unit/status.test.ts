import { describe, expect, it } from 'vitest';
import {
  canTransition,
  isTerminal,
  MESSAGE_STATUSES,
  type MessageStatus,
  TERMINAL_STATUSES,
} from '../../domain/status.ts';

const pairs = MESSAGE_STATUSES.flatMap((from) => MESSAGE_STATUSES.map((to) => [from, to] as const));

describe('message status machine', () => {
  it('knows exactly the terminal statuses', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual([
      'canceled',
      'delivered',
      'expired',
      'failed',
      'undelivered',
    ]);
    for (const s of MESSAGE_STATUSES) expect(isTerminal(s), s).toBe(TERMINAL_STATUSES.has(s));
    for (const s of ['accepted', 'scheduled', 'queued', 'sending', 'sent'] as const) {
      expect(isTerminal(s), s).toBe(false);
    }
  });

  it('allows the happy path accepted → queued → sending → sent → delivered', () => {
    const path: MessageStatus[] = ['accepted', 'queued', 'sending', 'sent', 'delivered'];
    for (let i = 0; i + 1 < path.length; i++) {
      expect(canTransition(path[i]!, path[i + 1]!), `${path[i]} → ${path[i + 1]}`).toBe(true);
    }
  });

  it('allows scheduling, a receipt before the submit returned, a requeue and a late receipt', () => {
    expect(canTransition('accepted', 'scheduled')).toBe(true);
    expect(canTransition('scheduled', 'queued')).toBe(true);
    expect(canTransition('sending', 'delivered')).toBe(true);
    expect(canTransition('sending', 'queued')).toBe(true);
    expect(canTransition('sent', 'undelivered')).toBe(true);
    expect(canTransition('sent', 'expired')).toBe(true);
    expect(canTransition('expired', 'delivered')).toBe(true);
    expect(canTransition('expired', 'undelivered')).toBe(true);
  });

  it('lets a message be canceled only before submission', () => {
    const cancelable = MESSAGE_STATUSES.filter((s) => canTransition(s, 'canceled'));
    expect(cancelable.sort()).toEqual(['accepted', 'queued', 'scheduled']);
  });

  it('has no way out of a terminal status except expired → delivered | undelivered', () => {
    for (const [from, to] of pairs) {
      if (!isTerminal(from)) continue;
      const allowed = from === 'expired' && (to === 'delivered' || to === 'undelivered');
      expect(canTransition(from, to), `${from} → ${to}`).toBe(allowed);
    }
  });

  it('never goes back to accepted, and never repeats a status', () => {
    for (const s of MESSAGE_STATUSES) {
      expect(canTransition(s, 'accepted'), `${s} → accepted`).toBe(false);
      expect(canTransition(s, s), `${s} → ${s}`).toBe(false);
    }
  });

  it('reaches every status from accepted and a terminal status from every status', () => {
    const reachable = new Set<MessageStatus>(['accepted']);
    for (let changed = true; changed; ) {
      changed = false;
      for (const [from, to] of pairs) {
        if (reachable.has(from) && !reachable.has(to) && canTransition(from, to)) {
          reachable.add(to);
          changed = true;
        }
      }
    }
    expect([...reachable].sort()).toEqual([...MESSAGE_STATUSES].sort());
    for (const s of MESSAGE_STATUSES) {
      const canEnd = isTerminal(s) || MESSAGE_STATUSES.some((to) => isTerminal(to) && canTransition(s, to));
      expect(canEnd, s).toBe(true);
    }
  });

  it('has no cycles outside sending ⇄ queued (a requeue before retrying)', () => {
    // Depth-first search for a cycle that does not use the queued → sending → queued loop.
    const edges = pairs.filter(([f, t]) => canTransition(f, t) && !(f === 'sending' && t === 'queued'));
    const visit = (node: MessageStatus, stack: Set<MessageStatus>): boolean => {
      if (stack.has(node)) return true;
      stack.add(node);
      const found = edges.some(([f, t]) => f === node && visit(t, stack));
      stack.delete(node);
      return found;
    };
    for (const s of MESSAGE_STATUSES) expect(visit(s, new Set()), s).toBe(false);
  });
});
