// Hostnames as routes store them: lowercase, no port, no trailing dot.

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The host part of a Host header, normalised for lookup ('' when absent). */
export function normalizeRequestHost(header: string | undefined): string {
  if (!header) return '';
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Validates a configured hostname (`*.` wildcard allowed) and returns its stored form. */
export function parseHostPattern(value: string): string | undefined {
  let host = value.trim().toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (name.length === 0 || name.length > 253) return undefined;
  if (!name.split('.').every((label) => DNS_LABEL.test(label))) return undefined;
  return host;
}

export function isWildcard(host: string): boolean {
  return host.startsWith('*.');
}

/** Turns any name into a valid DNS label, or '' when nothing usable is left. */
export function toDnsLabel(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}
