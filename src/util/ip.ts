// Address spellings in one place: IPv4-mapped IPv6 and bracketed IPv6 literals.
import { isIP } from 'node:net';

/** `::ffff:10.0.0.1` -> `10.0.0.1`: how a dual-stack socket reports an IPv4 peer. Anything else unchanged. */
export function plainAddress(address: string): string {
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:' && isIP(address.slice(7)) === 4) return address.slice(7);
  return address;
}

/** An IPv6 literal in brackets, as URLs and `host:port` need it; names and IPv4 unchanged. */
export function bracketed(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** `[::1]` -> `::1`: the address a socket takes. */
export function unbracketed(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
