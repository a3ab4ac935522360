import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses a webhook may reach. Unless private networks are allowed, it refuses loopback,
 * private, link-local (the cloud metadata address 169.254.169.254 included), unique-local, CGNAT,
 * unspecified, multicast, reserved, and IPv6 forms that embed an IPv4 address (mapped, compatible,
 * NAT64, 6to4, Teredo), except in the networks a deployment allows. Applied to the addresses DNS
 * resolves to as well, so a public name pointing at a private address is refused too.
 */
export const ALLOW_SETTING = 'HTTP_ALLOW_PRIVATE_NETWORKS';
const advice = `set ${ALLOW_SETTING}=true (or list the network in HTTP_ALLOWED_NETWORKS) to allow it`;

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export class NetworkPolicy {
  private readonly allowed: Cidr[];

  /** `allowedNetworks`: CIDRs reachable even though private (HTTP_ALLOWED_NETWORKS). */
  constructor(
    readonly allowPrivate: boolean,
    allowedNetworks: readonly string[] = [],
  ) {
    this.allowed = allowedNetworks.map((c) => ipaddr.parseCIDR(c));
  }

  isBlocked(address: string): boolean {
    if (this.allowPrivate) return false;
    if (!ipaddr.isValid(address)) return true;
    let parsed = ipaddr.parse(address);
    if (parsed.kind() === 'ipv6') {
      const v6 = parsed as ipaddr.IPv6;
      if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
      // IPv4-compatible (::a.b.c.d, deprecated): ipaddr.js calls it unicast, but stacks may route it to a.b.c.d.
      else if (v6.parts.slice(0, 6).every((p) => p === 0)) return true;
    }
    if (this.allowed.some(([net, bits]) => net.kind() === parsed.kind() && parsed.match(net as never, bits))) return false;
    return parsed.range() !== 'unicast';
  }

  /**
   * Why a URL's host is refused before any lookup: an IP literal in a blocked range, or a
   * `localhost` name (which resolves to loopback everywhere). Null when it is not.
   */
  literalHostError(hostname: string): string | null {
    if (this.allowPrivate) return null;
    const host = hostname
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '')
      .toLowerCase();
    if (net.isIP(host) && this.isBlocked(host)) return `${host} is a private, loopback or link-local address; ${advice}`;
    if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a loopback name; ${advice}`;
    return null;
  }

  /** IP literals skip DNS lookup entirely, so they are checked before connecting. */
  assertLiteralAllowed(hostname: string): void {
    const error = this.literalHostError(hostname);
    if (error) throw new BlockedAddressError(error);
  }

  /**
   * A `lookup` for http.request that fails the connection when any resolved address is blocked. The
   * error does not say which address: a run's error is shown to API clients, and internal DNS
   * answers are not theirs to see.
   */
  readonly lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (addresses.some((a) => this.isBlocked(a.address))) {
        return callback(new BlockedAddressError(`${hostname} resolves to a non-public address; ${advice}`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  readonly code = 'blocked-address';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
