// Strict-Transport-Security as labels and the routes file give it: `<seconds>`, then optionally
// `includeSubDomains` and `preload`, separated by `;`. Pure.

/** The header value (`max-age=31536000; includeSubDomains`), or undefined when unreadable. */
export function parseHsts(value: string): string | undefined {
  const parts = value.split(';').map((part) => part.trim()).filter((part) => part !== '');
  const seconds = /^(?:max-age=)?(\d{1,10})$/i.exec(parts[0] ?? '');
  if (!seconds) return undefined;
  const flags = new Set<string>();
  for (const part of parts.slice(1)) {
    const flag = part.toLowerCase() === 'includesubdomains' ? 'includeSubDomains' : part.toLowerCase() === 'preload' ? 'preload' : null;
    if (flag === null || flags.has(flag)) return undefined;
    flags.add(flag);
  }
  return [`max-age=${Number(seconds[1])}`, ...['includeSubDomains', 'preload'].filter((flag) => flags.has(flag))].join('; ');
}

export const HSTS_FORM = '<seconds>, optionally followed by "; includeSubDomains" and "; preload"';

/** Names that no public CA will issue for: they get a folder or the default certificate unless a route insists. */
export function hasPublicName(host: string): boolean {
  if (!host.includes('.') || host.startsWith('[') || /^\d+(\.\d+){3}$/.test(host)) return false;
  return !/(^|\.)(localhost|local|internal|home\.arpa|test|example|invalid)$/.test(host);
}
