// DOCKER_HOST-style addresses -> how to connect. Pure.
import { unbracketed } from '../util/ip.js';

export type DockerAddress =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly protocol: 'http' | 'https' };

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export function parseDockerHost(value: string): DockerAddress | undefined {
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    return socketPath.startsWith('/') ? { kind: 'unix', socketPath } : undefined;
  }
  if (value.startsWith('/')) return { kind: 'unix', socketPath: value };
  const match = /^(tcp|http|https):\/\/(\[[0-9a-f:]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/i.exec(value);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const protocol = scheme === 'https' ? 'https' : 'http';
  const port = match[3] ? Number(match[3]) : protocol === 'https' ? 2376 : 2375;
  if (port < 1 || port > 65535) return undefined;
  return { kind: 'tcp', host: unbracketed(match[2]!), port, protocol };
}
