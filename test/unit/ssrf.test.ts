import { describe, expect, it } from 'vitest';
import { isAllowListEntry } from '../../config/allow-list.ts';
import { blockedRangeOf, checkCallbackUrl, type HostLookup } from '../../services/ssrf.ts';

/** A resolver answering from a fixed table; unknown names fail like NXDOMAIN. */
function fakeDns(table: Record<string, string[]>): HostLookup {
  return async (host) => {
    const found = table[host];
    if (!found) throw new Error(`ENOTFOUND ${host}`);
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('blockedRangeOf', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.10.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::a00:1', 'NAT64'],
  ])('%s is %s', (address, what) => {
    expect(blockedRangeOf(address)).toContain(what);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(blockedRangeOf(address)).toBeUndefined();
    },
  );
});

describe('checkCallbackUrl', () => {
  const dns = fakeDns({
    'hooks.example.com': ['93.184.216.34'],
    'internal.example.com': ['10.1.2.3'],
    'mixed.example.com': ['93.184.216.34', '192.168.0.10'],
    'v6.example.com': ['2606:4700::1111'],
    localhost: ['127.0.0.1', '::1'],
  });

  it('accepts a public https URL and returns the checked addresses', async () => {
    const r = await checkCallbackUrl('https://hooks.example.com/cb?x=1', { lookup: dns });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect((await checkCallbackUrl('http://v6.example.com/', { lookup: dns })).ok).toBe(true);
    expect((await checkCallbackUrl('http://93.184.216.34:8080/cb', { lookup: dns })).ok).toBe(true);
  });

  it.each([
    ['http://10.0.0.5/cb', 'private'],
    ['http://169.254.169.254/latest/meta-data', 'metadata'],
    ['http://127.0.0.1:3000/cb', 'loopback'],
    ['http://[::1]/cb', 'loopback'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://[::ffff:10.0.0.1]/', 'private'],
    ['http://2130706433/', 'loopback'], // 127.0.0.1 as one number
    ['http://0x7f.1/', 'loopback'],
    ['http://internal.example.com/cb', 'resolves to 10.1.2.3'],
    ['http://mixed.example.com/cb', 'resolves to 192.168.0.10'],
    ['http://localhost:8080/', 'loopback'],
  ])('refuses %s', async (url, why) => {
    const r = await checkCallbackUrl(url, { lookup: dns });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(why);
  });

  it('refuses other schemes and names that do not resolve', async () => {
    const ftp = await checkCallbackUrl('ftp://hooks.example.com/cb', { lookup: dns });
    expect(ftp).toEqual({ ok: false, reason: 'callbackUrl must use http or https' });
    const file = await checkCallbackUrl('file:///etc/passwd', { lookup: dns });
    expect(file.ok).toBe(false);
    const nx = await checkCallbackUrl('https://nowhere.example.com/', { lookup: dns });
    expect(nx).toEqual({ ok: false, reason: 'callbackUrl host nowhere.example.com does not resolve' });
  });

  it('gives up on a resolver that hangs', async () => {
    const r = await checkCallbackUrl('https://slow.example.com/', {
      lookup: () => new Promise(() => {}),
      lookupTimeoutMs: 20,
    });
    expect(r.ok).toBe(false);
  });

  it('lets the allow-list exempt names, addresses and ranges', async () => {
    const allowed = async (url: string, allowedHosts: string[]) =>
      (await checkCallbackUrl(url, { lookup: dns, allowedHosts })).ok;
    expect(await allowed('http://127.0.0.1:4000/cb', ['127.0.0.1'])).toBe(true);
    expect(await allowed('http://localhost:4000/cb', ['localhost'])).toBe(true);
    expect(await allowed('http://LOCALHOST:4000/cb', ['localhost'])).toBe(true);
    expect(await allowed('http://internal.example.com/cb', ['10.0.0.0/8'])).toBe(true);
    expect(await allowed('http://[::1]:4000/cb', ['::1'])).toBe(true);
    // Only what is listed: another private address stays refused.
    expect(await allowed('http://10.0.0.5/cb', ['127.0.0.1', 'localhost'])).toBe(false);
    // localhost resolves to ::1 too, which 127.0.0.1 alone does not cover.
    expect(await allowed('http://localhost:4000/cb', ['127.0.0.1'])).toBe(false);
  });
});

describe('isAllowListEntry', () => {
  it.each(['127.0.0.1', 'localhost', 'hooks.example.com', '10.0.0.0/8', '::1', 'fd00::/8'])(
    'accepts %s',
    (e) => {
      expect(isAllowListEntry(e)).toBe(true);
    },
  );
  it.each(['foo bar', '10.0.0.0/33', 'http://x', '', '1.2.3.4/x'])('rejects %s', (e) => {
    expect(isAllowListEntry(e)).toBe(false);
  });
});
