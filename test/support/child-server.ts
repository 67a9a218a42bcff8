// A server the test runs as a child process in a folder of its own: pausable (SIGSTOP, to show a
// peer that stops answering), killable and restartable with its data, removed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { waitFor } from './wait.js';

export abstract class ChildServer {
  private child: ChildProcess | null = null;

  protected constructor(readonly dir: string) {}

  /** The command line, and whether the server answers yet. */
  protected abstract commandLine(): { readonly program: string; readonly args: readonly string[] };
  protected abstract answers(): Promise<boolean>;
  protected abstract get what(): string;

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Ends the process, keeping its folder (and its ports) for `restart`. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await once(child, 'exit');
    this.child = null;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.run();
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  protected async run(): Promise<void> {
    const { program, args } = this.commandLine();
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${program} exited (${child.exitCode}): ${stderr}`);
        return this.answers();
      },
      { what: this.what, timeoutMs: 20_000, intervalMs: 20 },
    );
  }
}
