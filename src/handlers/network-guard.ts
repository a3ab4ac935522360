import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Refuses addresses a webhook must not reach unless allowed: loopback, private, link-local (which
 * includes the cloud metadata address 169.254.169.254), unique-local, CGNAT, unspecified, multicast,
 * reserved, and IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo).
 * Applied to the addresses DNS resolves to, so a public name pointing at a private address is
 * refused too.
 */
export const ALLOW_SETTING = 'HTTP_ALLOW_PRIVATE_NETWORKS';

export function isBlockedAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    // IPv4-compatible (::a.b.c.d, deprecated): ipaddr.js calls it unicast, but stacks may route it to a.b.c.d.
    else if (v6.parts.slice(0, 6).every((p) => p === 0)) return true;
  }
  return parsed.range() !== 'unicast';
}

export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  readonly code = 'blocked-address';
}

const advice = `set ${ALLOW_SETTING}=true to allow webhooks to private networks`;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that fails the connection when any resolved address is blocked. The
 * error does not say which address: a run's error is shown to API clients, and internal DNS
 * answers are not theirs to see.
 */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    if (addresses.some((a) => isBlockedAddress(a.address))) {
      return callback(new BlockedAddressError(`${hostname} resolves to a non-public address; ${advice}`), []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

/**
 * Why a URL's host is refused without a DNS lookup: an IP literal in a blocked range, or a
 * `localhost` name (which resolves to loopback everywhere). Null when it is not.
 */
export function literalHostError(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (net.isIP(host) && isBlockedAddress(host)) return `${host} is a private, loopback or link-local address; ${advice}`;
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a loopback name; ${advice}`;
  return null;
}

/** IP literals skip DNS lookup entirely, so they are checked before connecting. */
export function assertLiteralAllowed(hostname: string): void {
  const error = literalHostError(hostname);
  if (error) throw new BlockedAddressError(error);
}
