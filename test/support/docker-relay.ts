// An HTTP relay on a unix socket in front of the real Docker socket, which can misbehave on
// demand: re-chunk bodies, tamper with the events stream, vanish, refuse, fall silent, fail a
// request, claim an old API version, or let only berth's four GETs through.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyGrain, ChoppedWriter, emptyChopStats, lineGrain, seededRandom, type ChopStats } from './chopped-writer.js';
import { EventTap, type Release } from './event-tap.js';

export interface RelayOptions {
  /** The engine's socket; default /var/run/docker.sock. */
  readonly upstream?: string;
  /** Re-chunk every response body into random pieces: the events stream into very small ones. */
  readonly chop?: boolean;
  /** Answer 403 to anything but GET /_ping, /version, /events and /containers/json. */
  readonly allowOnly?: boolean;
  readonly seed?: number;
}

export interface AskedRequest {
  readonly method: string;
  /** Without the query string. */
  readonly path: string;
  readonly allowed: boolean;
}

const BERTH_GETS = /^(\/v\d+\.\d+)?\/(_ping|version|events|containers\/json)$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

export class DockerRelay {
  /** Every request that reached the relay while it listened, in order. */
  readonly asked: AskedRequest[] = [];
  /** How the events streams were cut into pieces. */
  readonly eventStats: ChopStats = emptyChopStats();
  /** Connections closed at once while refusing. */
  refusedConnections = 0;
  readonly seed: number;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly taps = new Set<EventTap>();
  private readonly upstreamRequests = new Set<http.ClientRequest>();
  private readonly random: () => number;
  private refusing = false;
  private failures: Array<{ path: RegExp; status: number }> = [];
  private apiVersion: string | null = null;

  private constructor(
    private readonly dir: string,
    private readonly options: RelayOptions,
  ) {
    this.seed = options.seed ?? Date.now() % 2 ** 31;
    this.random = seededRandom(this.seed);
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      if (this.refusing) {
        this.refusedConnections++;
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: RelayOptions = {}): Promise<DockerRelay> {
    const relay = new DockerRelay(await mkdtemp(join(tmpdir(), 'berth-relay-')), options);
    await relay.listen();
    return relay;
  }

  get socketPath(): string {
    return join(this.dir, 'docker.sock');
  }

  /** The value for berth's --docker-host. */
  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  /** Whether the socket file exists. */
  async socketExists(): Promise<boolean> {
    return stat(this.socketPath).then(
      () => true,
      () => false,
    );
  }

  /** Appends these lines (a newline is added to each) to every open events stream. */
  inject(lines: ReadonlyArray<string | Buffer>): void {
    for (const tap of this.taps) for (const line of lines) tap.inject(Buffer.concat([Buffer.from(line), Buffer.from('\n')]));
  }

  /** Holds back the engine's event lines on the open streams until release(). */
  holdEvents(): void {
    for (const tap of this.taps) tap.hold();
  }

  get heldEventLines(): string[] {
    return [...this.taps].flatMap((tap) => tap.heldLines);
  }

  releaseEvents(how: Release): void {
    for (const tap of this.taps) tap.release(how);
  }

  /** The open events streams stay connected but carry nothing more; new ones work. */
  silenceEvents(): void {
    for (const tap of this.taps) tap.silence();
  }

  /** The next request whose path (version prefix removed) matches is answered with this status. */
  failNext(path: RegExp, status = 500): void {
    this.failures.push({ path, status });
  }

  /** Failures asked for with failNext() and not answered yet. */
  get pendingFailures(): number {
    return this.failures.length;
  }

  /** /version answers this ApiVersion from now on; null: the engine's own. */
  claimApiVersion(version: string | null): void {
    this.apiVersion = version;
  }

  /** true: drop every connection, then accept new ones and close them at once; false: serve again. */
  refuse(on: boolean): void {
    this.refusing = on;
    if (on) this.dropConnections();
  }

  /** Drops every connection and stops listening: the socket file is gone until resume(). */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropConnections();
    await closed;
    await rm(this.socketPath, { force: true });
  }

  /** Listens again on the same path. */
  resume(): Promise<void> {
    return this.listen();
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.cut();
    await rm(this.dir, { recursive: true, force: true });
  }

  private dropConnections(): void {
    for (const request of this.upstreamRequests) request.destroy();
    for (const socket of this.sockets) socket.destroy();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const bare = path.replace(/^\/v\d+\.\d+(?=\/)/, '');
    const allowed = !this.options.allowOnly || (req.method === 'GET' && BERTH_GETS.test(path));
    this.asked.push({ method: req.method ?? '', path, allowed });
    if (!allowed) return answer(res, 403, 'blocked by the relay');
    const failure = this.failures.find((f) => f.path.test(bare));
    if (failure) {
      this.failures = this.failures.filter((f) => f !== failure);
      return answer(res, failure.status, 'failure injected by the relay');
    }
    const upstream = http.request({ socketPath: this.options.upstream ?? '/var/run/docker.sock', path: req.url, method: req.method, headers: req.headers, agent: false });
    this.upstreamRequests.add(upstream);
    upstream.once('close', () => this.upstreamRequests.delete(upstream));
    upstream.on('error', () => res.destroy());
    res.once('close', () => upstream.destroy());
    upstream.on('response', (engine) => this.forward(bare, engine, res));
    req.pipe(upstream);
  }

  private forward(bare: string, engine: http.IncomingMessage, res: http.ServerResponse): void {
    const headers = Object.fromEntries(Object.entries(engine.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    if (bare === '/version' && this.apiVersion !== null) return this.rewriteVersion(engine, res, headers);
    res.writeHead(engine.statusCode ?? 502, headers);
    res.flushHeaders();
    const isEvents = bare === '/events';
    const grain = !this.options.chop ? null : isEvents ? lineGrain : bodyGrain;
    const writer = new ChoppedWriter(res, grain, isEvents ? this.eventStats : emptyChopStats(), this.random);
    if (isEvents) {
      const tap = new EventTap(writer);
      this.taps.add(tap);
      res.once('close', () => this.taps.delete(tap));
      engine.on('data', (chunk: Buffer) => tap.fromEngine(chunk));
    } else {
      engine.on('data', (chunk: Buffer) => writer.write(chunk));
    }
    engine.on('end', () => writer.end());
    engine.on('error', () => res.destroy());
  }

  private rewriteVersion(engine: http.IncomingMessage, res: http.ServerResponse, headers: http.OutgoingHttpHeaders): void {
    const chunks: Buffer[] = [];
    engine.on('data', (chunk: Buffer) => chunks.push(chunk));
    engine.on('end', () => {
      const body = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.concat(chunks).toString('utf8')), ApiVersion: this.apiVersion }));
      res.writeHead(engine.statusCode ?? 502, { ...headers, 'content-length': body.length }).end(body);
    });
  }
}

function answer(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
}
