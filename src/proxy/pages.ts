// Short error pages. Everything that came from the request is escaped.
import { STATUS_CODES } from 'node:http';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

/** An HTML page for the status; `detail` is plain text and gets escaped; `code` is berth's stable code. */
export function errorPage(status: number, detail: string, code?: string): string {
  const title = `${status} ${statusTitle(status)}`;
  const coded = code ? `<p><code>${code}</code></p>` : '';
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1><p>${escapeHtml(detail)}</p>${coded}<hr><p>berth</p></body></html>\n`;
}

export function notFoundDetail(host: string): string {
  return host === '' ? 'No route matches a request without a host.' : `No route matches the host ${host}.`;
}
