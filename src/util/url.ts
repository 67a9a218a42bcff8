// URLs people give berth in labels and files: plain http(s), nothing hidden in them. Pure.

/** The URL when `raw` is http(s) without user info or a fragment (and, if asked, a query), else undefined. */
export function plainHttpUrl(raw: string, { query = true } = {}): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.hash || (!query && url.search)) return undefined;
  return url;
}
