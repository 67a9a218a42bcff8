// What a failed connection to Docker means for the operator: a code, what happened, and what to do.
import { Codes, type Code } from '../errors.js';

export interface DockerFailure {
  readonly code: Code;
  readonly message: string;
  /** What the operator can do about it, when berth knows. */
  readonly fix?: string;
}

/** @param address the Docker address as configured (`unix:///var/run/docker.sock`, `tcp://...`) */
export function describeDockerFailure(error: unknown, address: string): DockerFailure {
  const err = (error ?? {}) as { code?: unknown; message?: unknown };
  const message = String(err.message ?? error);
  if (err.code === Codes.dockerApiTooOld) return { code: Codes.dockerApiTooOld, message, fix: 'upgrade the Docker Engine' };
  const socket = address.startsWith('unix://') ? address.slice('unix://'.length) : null;
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return {
        code: Codes.dockerDenied,
        message: `permission denied on the Docker socket ${socket ?? address}`,
        fix: socket
          ? `run berth in the socket's group (docker run --group-add $(stat -c %g ${socket}), or add its user to that group), run it as root, or point --docker-host at a socket proxy`
          : 'allow berth to reach the Docker API, or point --docker-host at a socket proxy',
      };
    case 'ENOENT':
      return { code: Codes.dockerUnreachable, message: `no Docker socket at ${socket ?? address}`, fix: 'start Docker, mount the socket\'s folder, or set --docker-host' };
    case 'ECONNREFUSED':
      return { code: Codes.dockerUnreachable, message: `nothing accepts connections at ${address}`, fix: 'start Docker, or set --docker-host' };
    default:
      return { code: Codes.dockerUnreachable, message };
  }
}
