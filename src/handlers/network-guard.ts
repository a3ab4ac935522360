import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Refuses addresses a webhook must not reach unless allowed: loopback, private, link-local (which
 * includes the cloud metadata address 169.254.169.254), unique-local, CGNAT, unspecified, multicast
 * and reserved ranges. Applied to the addresses DNS resolves to, so a public name pointing at a
 * private address is refused too.
 */
const PUBLIC_RANGES = new Set(['unicast']);

export function isBlockedAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return !PUBLIC_RANGES.has(parsed.range());
}

export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  readonly code = 'blocked-address';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** A `lookup` for http.request that fails the connection when any resolved address is blocked. */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => isBlockedAddress(a.address));
    if (blocked) {
      return callback(new BlockedAddressError(`${hostname} resolves to ${blocked.address}, a non-public address`), []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

/** IP literals skip DNS lookup entirely, so they are checked before connecting. */
export function assertLiteralAllowed(hostname: string): void {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) && isBlockedAddress(host)) {
    throw new BlockedAddressError(`${host} is a non-public address`);
  }
}
