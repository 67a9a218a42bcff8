// Short error pages. Everything that came from the request is escaped.

const TITLES: Record<number, string> = {
  301: 'Moved Permanently',
  302: 'Found',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  404: 'Not Found',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

/** An HTML page for the status; `detail` is plain text and gets escaped. */
export function errorPage(status: number, detail: string): string {
  const title = `${status} ${statusTitle(status)}`;
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1><p>${escapeHtml(detail)}</p><hr><p>berth</p></body></html>\n`;
}

export function notFoundDetail(host: string): string {
  return host === '' ? 'No route matches a request without a host.' : `No route matches the host ${host}.`;
}
