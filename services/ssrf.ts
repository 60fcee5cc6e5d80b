/**
 * SSRF protection for status callback URLs: only http(s), and every address the host resolves to
 * must be publicly routable (no loopback, private, link-local, metadata, CGNAT, multicast,
 * reserved …) unless the operator's allow-list (`CALLBACK_ALLOWED_HOSTS`) names the host, the
 * address or a range holding it. Checked when a message is accepted and again before each
 * delivery, since DNS can change in between; the delivery then connects to the checked address.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { bareHost } from '../config/allow-list.ts';

/** An address a host resolved to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses. */
export type HostLookup = (host: string) => Promise<readonly ResolvedAddress[]>;

/** Options of {@link checkCallbackUrl}. */
export interface CallbackUrlPolicy {
  /**
   * Exempt from the address check: host names (`localhost`, matched case-insensitively against
   * the URL's host), IP addresses (`127.0.0.1`) or CIDR ranges (`10.1.0.0/16`) matched against
   * the resolved addresses. Default: none.
   */
  readonly allowedHosts?: readonly string[];
  /** Default: `dns.lookup` with `all: true` (what the HTTP client itself would use). */
  readonly lookup?: HostLookup;
  /** Give up resolving after this long. Default 5000 ms. */
  readonly lookupTimeoutMs?: number;
}

/** The verdict on a callback URL; `addresses` are the checked ones to connect to. */
export type CallbackUrlCheck =
  | { readonly ok: true; readonly url: URL; readonly addresses: readonly ResolvedAddress[] }
  | { readonly ok: false; readonly reason: string };

/** Ranges a callback may never reach, with what they are (for the error message). */
const BLOCKED_RANGES: ReadonlyArray<readonly [cidr: string, what: string]> = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.169.254/32', 'cloud metadata'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignment'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4 relay'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fd00:ec2::254/128', 'cloud metadata'],
  ['fc00::/7', 'private (unique local)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
  ['100::/64', 'discard'],
  ['2001:db8::/32', 'documentation'],
  // Translation prefixes embed an IPv4 address that could be a private one.
  ['64:ff9b::/96', 'NAT64'],
  ['64:ff9b:1::/48', 'NAT64'],
  ['2002::/16', '6to4'],
  ['2001::/32', 'Teredo'],
];

const blockedRanges = BLOCKED_RANGES.map(([cidr, what]) => ({ cidr, what, list: rangeList(cidr) }));

/**
 * What a non-public address is (`"private (10.0.0.0/8)"`), or undefined for a public one.
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are judged as the IPv4 address they carry.
 */
export function blockedRangeOf(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const hit = blockedRanges.find((r) => r.list.check(address, type));
  return hit ? `${hit.what} (${hit.cidr})` : undefined;
}

/**
 * Checks a callback URL: scheme, then every address of its host.
 *
 * @returns `ok: false` with a sentence for the client when the URL is not allowed.
 */
export async function checkCallbackUrl(
  raw: string,
  policy: CallbackUrlPolicy = {},
): Promise<CallbackUrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'callbackUrl is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'callbackUrl must use http or https' };
  }
  const host = bareHost(url.hostname);
  if (host === '') return { ok: false, reason: 'callbackUrl has no host' };
  const allow = allowList(policy.allowedHosts ?? []);

  let addresses: readonly ResolvedAddress[];
  const literal = isIP(host);
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 4 ? 4 : 6 }];
  } else {
    try {
      addresses = await withTimeout(
        (policy.lookup ?? defaultLookup)(host),
        policy.lookupTimeoutMs ?? 5_000,
        `resolving ${host} timed out`,
      );
    } catch {
      return { ok: false, reason: `callbackUrl host ${host} does not resolve` };
    }
    if (addresses.length === 0) return { ok: false, reason: `callbackUrl host ${host} does not resolve` };
  }
  if (allow.names.has(host.toLowerCase())) return { ok: true, url, addresses };

  for (const { address, family } of addresses) {
    if (allow.ranges.check(address, family === 4 ? 'ipv4' : 'ipv6')) continue;
    const blocked = blockedRangeOf(address);
    if (blocked !== undefined) {
      const via = literal === 0 ? ` (${host} resolves to ${address})` : '';
      return {
        ok: false,
        reason: `callbackUrl points at a ${blocked} address${via}; callbacks only go to public addresses`,
      };
    }
  }
  return { ok: true, url, addresses };
}

/** `[::1]` → `::1`; a trailing dot of a fully qualified name is dropped. */

function allowList(entries: readonly string[]): { names: Set<string>; ranges: BlockList } {
  const names = new Set<string>();
  const ranges = new BlockList();
  for (const raw of entries) {
    const entry = bareHost(raw.trim().toLowerCase());
    if (entry === '') continue;
    if (entry.includes('/')) {
      addRange(ranges, entry);
    } else if (isIP(entry) !== 0) {
      ranges.addAddress(entry, isIP(entry) === 4 ? 'ipv4' : 'ipv6');
      names.add(entry);
    } else {
      names.add(entry);
    }
  }
  return { names, ranges };
}

function rangeList(cidr: string): BlockList {
  const list = new BlockList();
  addRange(list, cidr);
  return list;
}

function addRange(list: BlockList, cidr: string): void {
  const [ip = '', bits = ''] = cidr.split('/');
  const family = isIP(ip);
  if (family === 0) throw new Error(`not a CIDR range: ${cidr}`);
  list.addSubnet(ip, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
}

const defaultLookup: HostLookup = async (host) => {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
