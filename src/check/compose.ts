// A compose file's services and their labels (`labels` and `deploy.labels`, list or map form),
// as berth would see them on the containers. Pure.
import { parseDocument } from 'yaml';

export interface ComposeService {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `environment`, for --compat nginx-proxy (VIRTUAL_HOST and the like). */
  readonly env: Readonly<Record<string, string>>;
}

export type ComposeReading = { ok: true; services: ComposeService[] } | { ok: false; message: string };

export function readCompose(text: string): ComposeReading {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { ok: false, message: doc.errors[0]!.message.split('\n')[0]! };
  const root = doc.toJS() as unknown;
  const services = (root as { services?: unknown } | null)?.services;
  if (services === undefined || services === null || typeof services !== 'object' || Array.isArray(services)) {
    return { ok: false, message: 'the file has no "services" mapping' };
  }
  return {
    ok: true,
    services: Object.entries(services as Record<string, unknown>).map(([name, service]) => {
      const body = (service ?? {}) as { labels?: unknown; deploy?: { labels?: unknown }; environment?: unknown };
      // Swarm reads deploy.labels; plain compose reads labels: show both, deploy's winning.
      return { name, labels: { ...labelsOf(body.labels), ...labelsOf(body.deploy?.labels) }, env: labelsOf(body.environment) };
    }),
  };
}

/** `["a=b", "c"]` or `{a: b}` (labels and environment alike); values of any scalar type become text, as compose passes them. */
function labelsOf(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = String(item);
      const equals = text.indexOf('=');
      if (equals === -1) labels[text] = '';
      else labels[text.slice(0, equals)] = text.slice(equals + 1);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) labels[key] = item === null || item === undefined ? '' : String(item);
  }
  return labels;
}

