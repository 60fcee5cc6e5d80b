/**
 * The syntax of a callback allow-list entry (CALLBACK_ALLOWED_HOSTS): a host name, an IP address
 * or a CIDR range. Here so that config/ can validate the environment without importing services/;
 * services/ssrf.ts applies the list.
 */
import { isIP } from 'node:net';

/** A URL host without IPv6 brackets or a trailing dot. */
export function bareHost(hostname: string): string {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** Whether `entry` is something a callback allow-list (CALLBACK_ALLOWED_HOSTS, services/ssrf.ts) accepts. */
export function isAllowListEntry(entry: string): boolean {
  const e = bareHost(entry.trim());
  if (e.includes('/')) {
    const [ip, bits] = e.split('/');
    const family = isIP(ip ?? '');
    const n = Number(bits);
    return family !== 0 && Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
  }
  return isIP(e) !== 0 || /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(e);
}
