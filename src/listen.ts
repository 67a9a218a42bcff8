// Listening on a port, as a promise of the port actually bound; a refusal says which setting to change.
import type { AddressInfo, Server } from 'node:net';
import type { Logger } from 'pino';
import { BerthError, Codes } from './errors.js';
import { bracketed } from './util/ip.js';

export interface ListenTarget {
  readonly port: number;
  /** Undefined for every interface. */
  readonly host: string | undefined;
  /** The flag that chose this address, named in the message when it cannot be had. */
  readonly setting: string;
}

const ACCEPT_LOG_GAP_MS = 10_000;

export function listen(server: Server, target: ListenTarget, logger: Logger): Promise<number> {
  return new Promise((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException) => reject(listenError(error, target));
    server.once('error', refused);
    server.listen(target.port, target.host, () => {
      server.off('error', refused);
      watchAccepts(server, target, logger);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The message for a listen refusal: what is wrong and which setting changes it. */
export function listenError(error: NodeJS.ErrnoException, { port, host, setting }: ListenTarget): BerthError {
  const where = host === undefined ? `port ${port}` : `${bracketed(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new BerthError(Codes.listen, `${where} is in use: change --${setting}, or stop what listens there`);
    case 'EACCES':
      return new BerthError(Codes.listen, `${where} needs privileges (ports below 1024): change --${setting}, run as root, or grant CAP_NET_BIND_SERVICE`);
    case 'EADDRNOTAVAIL':
      return new BerthError(Codes.listen, `${where} is not an address of this machine: change --${setting}`);
    default:
      return new BerthError(Codes.listen, `cannot listen on ${where} (${error.code ?? error.message}): check --${setting}`);
  }
}

/** A listening server emits 'error' when accept() fails (EMFILE): unhandled, that ends the process. */
function watchAccepts(server: Server, { setting }: ListenTarget, logger: Logger): void {
  let lastLogged = -Infinity;
  let unlogged = 0;
  server.on('error', (error: NodeJS.ErrnoException) => {
    unlogged++;
    if (Date.now() - lastLogged < ACCEPT_LOG_GAP_MS) return;
    lastLogged = Date.now();
    logger.error({ code: Codes.accept, err: error, listener: setting, failures: unlogged }, 'accepting a connection failed; still listening');
    unlogged = 0;
  });
}
