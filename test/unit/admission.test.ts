/** Re-admission after a crash keeps the order the attempt rows record. */
import { describe, expect, it } from 'vitest';
import { triedFirst } from '../../activities/admission.ts';

const routes = ['vonage-sim', 'twilio-sim', 'smpp-sim'].map((carrierId) => ({ carrierId }));

describe('triedFirst', () => {
  it('puts the carriers already tried first, in attempt order, the rest as ranked', () => {
    const attempts = [
      { carrier_id: 'smpp-sim', attempt: 2 },
      { carrier_id: 'twilio-sim', attempt: 1 },
    ];
    expect(triedFirst(routes, attempts).map((r) => r.carrierId)).toEqual([
      'twilio-sim',
      'smpp-sim',
      'vonage-sim',
    ]);
  });

  it('keeps the ranking when nothing was tried, and ignores a tried carrier no longer eligible', () => {
    expect(triedFirst(routes, []).map((r) => r.carrierId)).toEqual(['vonage-sim', 'twilio-sim', 'smpp-sim']);
    expect(triedFirst(routes, [{ carrier_id: 'gone-sim', attempt: 1 }]).map((r) => r.carrierId)).toEqual([
      'vonage-sim',
      'twilio-sim',
      'smpp-sim',
    ]);
  });
});
