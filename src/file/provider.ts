// The routes file source: read, validate, and keep the last good version in force.
// The folder is watched, not the file, so editors' and orchestrators' atomic renames are seen.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import type { RouteStore } from '../routes/store.js';
import type { Problem } from '../routes/types.js';
import type { RouteSource, SourceMetric, SourceStatus } from '../sources/source.js';
import { createCoalescer } from '../util/coalescer.js';
import { RoutesFileReader } from './incremental.js';
import { type RoutesFileOptions, SOURCE } from './parse.js';

const TRAILING_CHECK_MS = 100;

export interface RoutesFileStatus extends SourceStatus {
  readonly path: string;
  readonly state: 'starting' | 'ok' | 'invalid' | 'missing';
  /** Routes in force from the file (the last good version while it is invalid). */
  readonly routes: number;
  readonly problems: readonly Problem[];
  readonly loads: number;
}

export class RoutesFileProvider implements RouteSource {
  readonly name = SOURCE;
  private readonly updateListeners: Array<() => void> = [];
  private readonly path: string;
  private readonly reload;
  /** Keeps each route item's reading, so one changed route re-reads one item. */
  private readonly reader: RoutesFileReader;
  private watcher: FSWatcher | null = null;
  private lastText: string | null = null;
  private trailing: NodeJS.Timeout | null = null;
  private readonly loaded: Promise<void>;
  private markLoaded!: () => void;
  private state: Omit<RoutesFileStatus, 'path'> = { state: 'starting', routes: 0, problems: [], lastSyncAt: null, loads: 0 };

  constructor(
    path: string,
    private readonly store: RouteStore,
    private readonly logger: Logger,
    private readonly options: RoutesFileOptions = { tlsDefault: false },
  ) {
    this.path = resolve(path);
    this.reader = new RoutesFileReader(basename(this.path), (file) => readFileSync(resolve(dirname(this.path), file), 'utf8'), options);
    this.reload = createCoalescer(
      () => this.load(),
      (error) => this.logger.error({ code: Codes.routesFileRead, path: this.path, err: error }, 'reading the routes file failed'),
    );
    this.loaded = new Promise((resolve) => (this.markLoaded = resolve));
  }

  get status(): RoutesFileStatus {
    return { path: this.path, ...this.state };
  }

  /** Resolves after the first load, whatever its outcome. */
  whenSynced(): Promise<void> {
    return this.loaded;
  }

  onUpdate(listener: () => void): void {
    this.updateListeners.push(listener);
  }

  metrics(): readonly SourceMetric[] {
    return [{ name: 'berth_routes_file_loads_total', help: 'Times the routes file was read and parsed', type: 'counter', value: this.state.loads }];
  }

  async start(): Promise<void> {
    const folder = dirname(this.path);
    // Only the file matters: without this, every write to a neighbour (a log file) costs a stat.
    const ignored = (path: string) => path !== folder && resolve(path) !== this.path;
    const watcher = watch(folder, { depth: 0, ignoreInitial: true, atomic: false, ignored });
    this.watcher = watcher;
    // `ignored` lets through nothing but the file (and the folder, which has no add/change/unlink).
    const onEvent = () => {
      void this.reload.request();
      // chokidar drops a change that follows another within 50 ms: look again once things settle.
      if (this.trailing) clearTimeout(this.trailing);
      this.trailing = setTimeout(() => void this.reload.request(), TRAILING_CHECK_MS);
    };
    watcher.on('add', onEvent).on('change', onEvent).on('unlink', onEvent);
    watcher.on('error', (error) => this.logger.error({ code: Codes.routesFileRead, path: this.path, err: error }, 'watching the routes file failed'));
    await new Promise<void>((ready) => watcher.once('ready', ready));
    await this.reload.request();
    this.markLoaded();
  }

  async stop(): Promise<void> {
    if (this.trailing) clearTimeout(this.trailing);
    await this.watcher?.close();
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return this.missing();
    }
    if (text === this.lastText) return;
    this.lastText = text;
    const reading = this.reader.read(text);
    this.state = { ...this.state, loads: this.state.loads + 1, lastSyncAt: new Date().toISOString() };
    if (reading.problems.length > 0) {
      this.state = { ...this.state, state: 'invalid', problems: reading.problems };
      this.told();
      for (const problem of reading.problems) {
        this.logger.error({ code: problem.code, path: this.path, line: problem.line, column: problem.column, fix: problem.fix }, problem.message);
      }
      this.logger.warn({ path: this.path, problems: reading.problems.length, routes: this.state.routes }, 'routes file is invalid; keeping the last good routes');
      return;
    }
    this.store.update(SOURCE, reading.specs);
    this.state = { ...this.state, state: 'ok', problems: [], routes: reading.specs.length };
    this.told();
    this.logger.info({ path: this.path, routes: reading.specs.length }, 'routes file loaded');
  }

  private missing(): void {
    if (this.state.state === 'missing') return;
    this.lastText = null;
    const had = this.state.routes;
    this.store.update(SOURCE, []);
    const problem = { code: Codes.routesFileMissing, message: 'the routes file does not exist', fix: 'create it; berth picks it up without a restart' };
    this.state = { ...this.state, state: 'missing', routes: 0, problems: [problem], loads: this.state.loads + 1, lastSyncAt: new Date().toISOString() };
    this.told();
    this.logger.warn({ code: problem.code, path: this.path, removedRoutes: had }, had > 0 ? 'routes file deleted; its routes are removed' : problem.message);
  }

  private told(): void {
    for (const listener of this.updateListeners) listener();
  }
}
