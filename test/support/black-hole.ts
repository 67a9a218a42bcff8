// A loopback address whose connects hang: a listener that never accepts, its accept queue
// filled, so the kernel drops every further SYN. Nothing leaves the machine.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';

export interface BlackHole {
  readonly port: number;
  close(): void;
}

// Python's listen(0) never accepts; Node's own listeners always do.
const LISTENER = 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()';

export async function startBlackHole(): Promise<BlackHole> {
  const child = spawn('python3', ['-c', LISTENER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(line)));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the black-hole listener exited with ${code}`)));
  });
  const fillers: net.Socket[] = [];
  // Fill the queue: stop at the first connect that does not complete (at most 8 tries).
  for (let i = 0; i < 8; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('connect', () => (clearTimeout(timer), resolve(true)));
    });
    if (!connected) break;
  }
  return {
    port,
    close() {
      for (const socket of fillers) socket.destroy();
      child.stdin!.end();
      child.kill();
    },
  };
}
