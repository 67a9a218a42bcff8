// IP ranges for --trusted-proxies, matched with node:net's BlockList.
import { BlockList, isIP } from 'node:net';
import { plainAddress } from '../util/ip.js';
import type { Parsed } from './values.js';

export interface AddressMatcher {
  readonly ranges: readonly string[];
  matches(address: string): boolean;
}

/** Comma-separated addresses or CIDR ranges, IPv4 or IPv6. */
export function parseAddressList(raw: string): Parsed<AddressMatcher> {
  const list = new BlockList();
  const ranges: string[] = [];
  for (const entry of raw.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      return { ok: false, problem: `"${entry}" is not an IP address or CIDR range` };
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    ranges.push(entry);
  }
  return { ok: true, value: addressMatcher(list, ranges) };
}

/** Loopback hosts, where the admin API may listen without a token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export const noAddresses: AddressMatcher = { ranges: [], matches: () => false };

function addressMatcher(list: BlockList, ranges: readonly string[]): AddressMatcher {
  return {
    ranges,
    matches(address: string): boolean {
      if (ranges.length === 0) return false;
      const plain = plainAddress(address);
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}
