// etcd v3's JSON gateway (`/v3/kv/range`, streaming `/v3/watch`, `/v3/auth/authenticate`) over
// node:http(s): keys and values are base64 there. Not fetch: Node 20's fetch takes no CA of its
// own without the undici package, and --etcd-ca needs one.
import http from 'node:http';
import https from 'node:https';
import { messageOf } from '../provider.js';

export interface GatewayOptions {
  /** http(s)://host:port */
  readonly url: string;
  readonly ca?: string;
  readonly user?: string;
  readonly password?: string;
  readonly timeoutMs: number;
}

export type Json = Record<string, unknown>;

/** A failure etcd answered with (an HTTP status and its message), apart from an unreachable one. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export interface WatchStream {
  /** Resolves when the stream ends, with why. */
  readonly ended: Promise<string>;
  close(): void;
}

export class EtcdGateway {
  private token: string | null = null;

  constructor(private readonly options: GatewayOptions) {}

  /** Takes a token when a user is set: every call then carries it. */
  async authenticate(): Promise<void> {
    if (this.options.user === undefined) return;
    this.token = null;
    const reply = await this.call('/v3/auth/authenticate', { name: this.options.user, password: this.options.password ?? '' });
    if (typeof reply['token'] !== 'string') throw new GatewayError(200, 'etcd gave no token');
    this.token = reply['token'];
  }

  call(path: string, body: Json, timeoutMs = this.options.timeoutMs): Promise<Json> {
    return new Promise((resolve, reject) => {
      const req = this.request(path, body, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          let json: Json;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
          } catch {
            return reject(new GatewayError(res.statusCode ?? 0, `etcd answered ${path} with something other than JSON (status ${res.statusCode})`));
          }
          if (res.statusCode !== 200) return reject(new GatewayError(res.statusCode ?? 0, errorText(json)));
          resolve(json);
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`etcd did not answer ${path} within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** A `/v3/watch` stream: each message's `result` goes to `onResult`; an `error` ends it. */
  watch(body: Json, onResult: (result: Json) => void): WatchStream {
    let finish!: (why: string) => void;
    let done = false;
    const ended = new Promise<string>((resolve) => (finish = resolve));
    const end = (why: string) => {
      if (done) return;
      done = true;
      req.destroy();
      finish(why);
    };
    const req = this.request('/v3/watch', body, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return end(`etcd answered the watch with status ${res.statusCode}`);
      }
      const objects = jsonObjects();
      res.on('data', (chunk: Buffer) => {
        try {
          for (const message of objects.push(chunk.toString('utf8'))) {
            if (message['error'] !== undefined) return end(errorText(message));
            if (message['result'] && typeof message['result'] === 'object') onResult(message['result'] as Json);
          }
        } catch (error) {
          end(`the watch stream broke: ${messageOf(error)}`);
        }
      });
      res.on('error', (error) => end(`the watch stream broke: ${error.message}`));
      res.on('close', () => end('the watch stream ended'));
    });
    req.on('error', (error) => end(`the watch stream broke: ${error.message}`));
    return { ended, close: () => end('closed') };
  }

  private request(path: string, body: Json, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
    const url = new URL(path, this.options.url);
    const payload = JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    if (this.token !== null) headers['authorization'] = this.token;
    const options: https.RequestOptions = { method: 'POST', headers, agent: false, ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}) };
    const req = (url.protocol === 'https:' ? https : http).request(url, options, onResponse);
    req.end(payload);
    return req;
  }
}

function errorText(json: Json): string {
  const error = json['error'];
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') return String((error as Json)['message'] ?? JSON.stringify(error));
  return String(json['message'] ?? JSON.stringify(json));
}

/**
 * Whole JSON objects out of a stream of text, however it is cut: the gateway writes one object
 * per message, and a message may arrive in pieces or several in one chunk.
 */
export function jsonObjects(): { push(text: string): Json[] } {
  let buffer = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let scanned = 0;
  return {
    push(text: string): Json[] {
      buffer += text;
      const out: Json[] = [];
      for (let i = scanned; i < buffer.length; i++) {
        const c = buffer[i];
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{') {
          if (depth++ === 0) start = i;
        } else if (c === '}' && depth > 0 && --depth === 0) {
          out.push(JSON.parse(buffer.slice(start, i + 1)) as Json);
          start = -1;
        }
      }
      // Keep only an object still open.
      if (depth === 0) {
        buffer = '';
        scanned = 0;
      } else {
        buffer = buffer.slice(start);
        scanned = buffer.length;
        start = 0;
      }
      return out;
    },
  };
}
