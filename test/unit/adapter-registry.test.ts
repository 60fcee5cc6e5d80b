import { describe, expect, it } from 'vitest';
import { ADAPTER_KINDS, createAdapter } from '../../adapters/registry.ts';

describe('createAdapter', () => {
  it('builds each known kind from its config', () => {
    expect(ADAPTER_KINDS).toEqual(expect.arrayContaining(['twilio', 'vonage', 'infobip', 'http-config']));
    const twilio = createAdapter({
      id: 't1',
      kind: 'twilio',
      config: { accountSid: 'AC1', authToken: 'tok' },
    });
    expect(twilio.kind).toBe('twilio');
    expect(twilio.receiptAck?.status).toBe(200);
    const vonage = createAdapter({ id: 'v1', kind: 'vonage', config: { apiKey: 'k', apiSecret: 's' } });
    expect(vonage.kind).toBe('vonage');
  });

  it('names the carrier and the bad field', () => {
    expect(() => createAdapter({ id: 'twilio-main', kind: 'twilio', config: { accountSid: 'AC1' } })).toThrow(
      /carrier "twilio-main" \(twilio\): invalid config: authToken/,
    );
    expect(() =>
      createAdapter({ id: 'v', kind: 'vonage', config: { apiKey: 'k', apiSecret: 's', timeoutMs: -1 } }),
    ).toThrow(/carrier "v" \(vonage\): invalid config: timeoutMs/);
    expect(() =>
      createAdapter({ id: 'v', kind: 'vonage', config: { apiKey: 'k', apiSecret: 's', baseUrl: 'ftp://x' } }),
    ).toThrow(/baseUrl/);
    expect(() => createAdapter({ id: 'v', kind: 'vonage', config: null })).toThrow(/apiKey/);
  });

  it('refuses an unknown kind, listing the known ones', () => {
    expect(() => createAdapter({ id: 'x', kind: 'pigeon', config: {} })).toThrow(
      /^carrier "x": unknown adapter kind "pigeon" \(known: twilio, vonage, infobip, http-config/,
    );
  });
});
