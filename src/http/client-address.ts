// Client addresses. The socket's peer is the client unless it is one of TRUSTED_PROXIES, in which case
// fastify (proxy-addr) walks X-Forwarded-For from the right and stops at the first untrusted hop, so a
// client cannot name its own address by sending the header. Addresses are normalised (an IPv4 client on
// a dual-stack socket arrives as ::ffff:a.b.c.d) so one client is one key in blocks and counters.
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** proxy-addr's names for whole ranges, accepted in TRUSTED_PROXIES besides addresses and CIDRs. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** The canonical text of an IPv4 or IPv6 address, or undefined when `text` is not one. */
export function normalizeIp(text: string): string | undefined {
  const trimmed = text.trim();
  if (!ipaddr.isValid(trimmed)) return undefined;
  // isValid accepts shorthand such as "10.1" (inet_aton's forms); an address must be written in full.
  if (!ipaddr.IPv6.isValid(trimmed) && !ipaddr.IPv4.isValidFourPartDecimal(trimmed)) return undefined;
  return ipaddr.process(trimmed).toString();
}

/** True for an entry TRUSTED_PROXIES may hold: an address, a CIDR, or loopback/linklocal/uniquelocal. */
export function isTrustedProxyEntry(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  if (normalizeIp(entry)) return true;
  return entry.includes('/') && ipaddr.isValidCIDR(entry);
}

/** A request parameter holding an address (normalised), refused with a message naming what was sent. */
export const ipAddressParam = () =>
  z.string().transform((value, ctx) => {
    const ip = normalizeIp(value);
    if (!ip) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an IPv4 or IPv6 address (got "${value.slice(0, 64)}")`,
      });
      return z.NEVER;
    }
    return ip;
  });
