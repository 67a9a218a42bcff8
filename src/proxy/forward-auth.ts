// Forward auth: before a request goes on, its route's auth service is asked (method, URI, host,
// scheme and client as X-Forwarded-*, the client's own headers as they came). A 2xx lets it
// through with the headers the route names copied from that answer; any other answer goes to the
// client as it is (a login redirect, a 401 page). An auth service that cannot be asked fails closed.
import http from 'node:http';
import https from 'node:https';
import type { ForwardAuthSpec, HeaderEdit } from '../behaviours/spec.js';
import { editedLines, responseHeaderLines } from './upstream.js';

export type ForwardAuthOutcome =
  | { readonly kind: 'allow'; readonly edits: readonly HeaderEdit[] }
  | { readonly kind: 'answer'; readonly status: number; readonly headers: readonly string[]; readonly body: Buffer }
  | { readonly kind: 'unreachable'; readonly error: Error };

export interface ForwardAuthRequest {
  readonly method: string;
  /** The path and query as the client sent them. */
  readonly uri: string;
  readonly host: string;
  readonly proto: 'http' | 'https';
  readonly clientAddress: string;
  /** The headers berth would send upstream: hop-by-hop, framing and untrusted forwarding ones already gone. */
  readonly headers: http.IncomingHttpHeaders;
}

// An auth service's page is small; more than this is cut off rather than held in memory.
const MAX_ANSWER_BYTES = 64 * 1024;
const agents = { http: new http.Agent({ keepAlive: true, maxFreeSockets: 16 }), https: new https.Agent({ keepAlive: true, maxFreeSockets: 16 }) };

export function askForwardAuth(spec: ForwardAuthSpec, request: ForwardAuthRequest, timeoutMs: number): Promise<ForwardAuthOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: ForwardAuthOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const url = new URL(spec.url);
    // The service's own Host goes to it (from the URL); what it decides on is berth's X-Forwarded-*.
    const headers: http.OutgoingHttpHeaders = { ...request.headers };
    delete headers['host'];
    Object.assign(headers, {
      'x-forwarded-method': request.method,
      'x-forwarded-uri': request.uri,
      'x-forwarded-host': request.host,
      'x-forwarded-proto': request.proto,
      'x-forwarded-for': request.clientAddress,
    });
    const secure = url.protocol === 'https:';
    let ask: http.ClientRequest;
    try {
      ask = (secure ? https : http).request(url, { method: 'GET', headers, agent: secure ? agents.https : agents.http, timeout: timeoutMs });
    } catch (error) {
      return settle({ kind: 'unreachable', error: error as Error });
    }
    ask.on('timeout', () => ask.destroy(new Error('the auth service did not answer in time')));
    ask.on('error', (error) => settle({ kind: 'unreachable', error }));
    ask.on('response', (answer) => {
      const status = answer.statusCode ?? 502;
      if (status >= 200 && status < 300) {
        answer.resume();
        // Each named header is set from the answer, or removed: a client cannot bring its own Remote-User.
        const edits: HeaderEdit[] = spec.copyHeaders.map((name) => {
          const value = answer.headers[name];
          return [name, value === undefined ? null : Array.isArray(value) ? value.join(', ') : value];
        });
        return settle({ kind: 'allow', edits });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      answer.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        else answer.destroy();
      });
      const relay = () => {
        // The page is relayed whole, with its length set by berth.
        settle({ kind: 'answer', status, headers: editedLines(responseHeaderLines(answer.rawHeaders), [['content-length', null]]), body: Buffer.concat(chunks) });
      };
      answer.on('end', relay);
      answer.on('close', relay);
      answer.on('error', () => relay());
    });
    ask.end();
  });
}

export function closeForwardAuthAgents(): void {
  agents.http.destroy();
  agents.https.destroy();
}
