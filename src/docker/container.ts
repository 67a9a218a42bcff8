// A running container -> its routes and problems. Pure: the Docker client supplies the data.
import { Codes } from '../errors.js';
import { toDnsLabel } from '../routes/host.js';
import type { Endpoint, ForwardSpec, Problem, RedirectSpec, RouteTls } from '../routes/types.js';
import { readContainerLabels, renameProblems, type CompatReader, type ContainerLabelReading } from './compat/index.js';
import type { RouteIntent } from './labels.js';

/** The part of Docker's container list entry that routing needs. */
export interface ContainerSummary {
  readonly id: string;
  /** Without the leading slash. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `running`, `paused`, `restarting`, ... */
  readonly state: string;
  /** Docker's status text, e.g. `Up 3 minutes (healthy)`. */
  readonly status: string;
  /** `healthy`, `unhealthy`, `starting`, or null without a healthcheck. */
  readonly health: string | null;
  /** Exposed TCP ports, ascending and unique. */
  readonly ports: readonly number[];
  /** Network name -> IPv4 address ('' when it has none). */
  readonly networks: Readonly<Record<string, string>>;
  /** The environment, from an inspect: read only with --compat nginx-proxy (it holds secrets too). */
  readonly env?: Readonly<Record<string, string>>;
  /** Network name -> the network's gateway, the host's address on it ('' or absent when unknown). */
  readonly gateways?: Readonly<Record<string, string>>;
  readonly networkMode: string;
}

/** Where berth itself runs, when that is a container. */
export interface OwnPlacement {
  /** Its container's name, for the fixes that name it. */
  readonly name: string;
  /** The networks it has an address on, by name; empty with --network host. */
  readonly networks: readonly string[];
  /** Where it reaches the host's own interfaces (for network_mode: host containers); null when nowhere. */
  readonly hostAddress: string | null;
}

export interface RoutingOptions {
  readonly labelPrefix: string;
  /** With a domain, containers are reachable at `<name>.<domain>`. */
  readonly domain: string | null;
  readonly exposedByDefault: boolean;
  /** The network to use when a container has several and none is shared with berth. */
  readonly network: string | null;
  /** Routes without a `tls` label are HTTPS (--tls-default). */
  readonly tlsDefault?: boolean;
  /** berth's own container; null when berth runs outside Docker. */
  readonly own: OwnPlacement | null;
  /** Other tools' labels to read when a container has no berth labels (--compat). */
  readonly compat?: readonly CompatReader[];
}

export interface ContainerRouting {
  readonly routes: readonly ForwardSpec[];
  /** Routes that answer with a redirect (`redirect` labels): no endpoint, no port. */
  readonly redirects?: readonly RedirectSpec[];
  readonly problems: readonly Problem[];
  /** False when the container is opted out or not concerned. */
  readonly routed: boolean;
}

/** Why a container cannot take new requests right now, or null when it can. */
export type Readiness = string | null;

/** `reading`: the labels already read, when many items share them (a service's tasks). */
export function containerRouting(
  container: ContainerSummary,
  options: RoutingOptions,
  notReady: Readiness,
  reading: ContainerLabelReading = readContainerLabels(container.labels, options.labelPrefix, options.compat ?? [], container.env),
): ContainerRouting {
  const problems: Problem[] = [...reading.problems];
  const hasHostLabel = reading.routes.some((route) => route.hosts !== null);
  const nameRouted = options.domain !== null && (reading.enable === true || (reading.enable === null && options.exposedByDefault));
  const optedIn = reading.enable === true || (reading.enable === null && (hasHostLabel || nameRouted));
  if (!optedIn) return { routes: [], problems: renameProblems(problems, reading.origin), routed: false };

  const nameHost = nameRouted ? containerHost(container, options.domain!, problems) : null;
  const routes: ForwardSpec[] = [];
  const redirects: RedirectSpec[] = [];
  for (const intent of reading.routes) {
    const hosts = intent.hosts ?? (nameHost ? [nameHost] : null);
    if (hosts === null) {
      if (intent.name !== 'default' || reading.routes.length === 1) problems.push(noHostProblem(intent, options));
      continue;
    }
    const tls = routeTls(intent, options);
    if (intent.redirect) {
      const redirect = { ...intent.redirect, stripPrefix: intent.stripPrefix, origin: `container ${container.name}` };
      for (const host of hosts) redirects.push({ host, path: intent.path, source: 'docker', redirect, ...(tls ? { tls } : {}) });
      continue;
    }
    const endpoint = endpointFor(container, intent, options, notReady, problems);
    if (!endpoint) continue;
    const behaviours = intent.behaviours ? { behaviours: intent.behaviours } : {};
    for (const host of hosts) routes.push({ host, path: intent.path, endpoint, source: 'docker', ...(tls ? { tls } : {}), ...behaviours });
  }
  // Problems about translated labels name the compat labels they came from.
  return { routes, ...(redirects.length > 0 ? { redirects } : {}), problems: renameProblems(problems, reading.origin), routed: true };
}

/** HTTPS when the labels say so, or when they say nothing and --tls-default is on. */
function routeTls(intent: RouteIntent, options: RoutingOptions): RouteTls | null {
  const on = intent.tls ?? options.tlsDefault === true;
  return on ? { redirect: intent.tlsRedirect, hsts: intent.hsts, explicit: intent.tls === true } : null;
}

/** `<service>-<project>` for a compose container (replicas share it), else the container name. */
export function routingName(container: ContainerSummary): string {
  const service = container.labels['com.docker.compose.service'];
  const project = container.labels['com.docker.compose.project'];
  return service && project ? `${service}-${project}` : container.name;
}

function containerHost(container: ContainerSummary, domain: string, problems: Problem[]): string | null {
  const label = toDnsLabel(routingName(container));
  if (label !== '') return `${label}.${domain}`;
  problems.push({ code: Codes.nameInvalid, message: `"${routingName(container)}" gives no usable DNS name`, fix: 'rename the container or set a host label' });
  return null;
}

function endpointFor(
  container: ContainerSummary,
  intent: RouteIntent,
  options: RoutingOptions,
  notReady: Readiness,
  problems: Problem[],
): Endpoint | undefined {
  const port = intent.port ?? onlyExposedPort(container, intent, options, problems);
  const address = addressFor(container, intent, options, problems);
  if (port === undefined || address === undefined) return undefined;
  return {
    key: `${container.id}/${intent.name}`,
    scheme: intent.scheme,
    address,
    port,
    ready: notReady === null,
    ...(notReady === null ? {} : { notReadyReason: notReady }),
    stripPrefix: intent.stripPrefix,
    ...(intent.allowEncoded ? { allowEncoded: intent.allowEncoded } : {}),
    container: { id: container.id, name: container.name },
  };
}

function onlyExposedPort(container: ContainerSummary, intent: RouteIntent, options: RoutingOptions, problems: Problem[]): number | undefined {
  if (container.ports.length === 1) return container.ports[0];
  const label = portLabel(intent, options);
  problems.push({
    code: Codes.portAmbiguous,
    label,
    message: container.ports.length === 0 ? 'the container exposes no port' : `the container exposes several ports (${container.ports.join(', ')})`,
    fix: `set ${label}`,
  });
  return undefined;
}

function portLabel(intent: RouteIntent, options: RoutingOptions): string {
  return intent.name === 'default' ? `${options.labelPrefix}.port` : `${options.labelPrefix}.route.${intent.name}.port`;
}

/** The container's IP on the chosen network; never a random pick. */
function addressFor(container: ContainerSummary, intent: RouteIntent, options: RoutingOptions, problems: Problem[]): string | undefined {
  if (container.networkMode === 'host') return hostAddress(container, options, problems);
  const withIp = Object.keys(container.networks).filter((name) => container.networks[name] !== '').sort();
  const networkLabel = `${options.labelPrefix}.network`;
  const ownNetworks = options.own?.networks ?? [];
  let chosen: string | undefined;
  if (intent.network !== null) {
    chosen = withIp.includes(intent.network) ? intent.network : undefined;
    if (!chosen) {
      problems.push({ code: Codes.labelNetwork, label: networkLabel, message: `the container has no address on network "${intent.network}" (it has: ${withIp.join(', ') || 'none'})`, fix: 'name one of its networks' });
      return undefined;
    }
    if (ownNetworks.length > 0 && !ownNetworks.includes(chosen)) {
      // Requests to an address on a network berth is not on would hang until they time out.
      const others = withIp.filter((name) => ownNetworks.includes(name));
      problems.push({
        code: Codes.networkNotShared,
        label: networkLabel,
        message: `${networkLabel} names "${chosen}", a network berth's container is not on (berth: ${ownNetworks.join(', ')})`,
        fix: `connect berth to it (docker network connect ${chosen} ${options.own!.name})${others.length > 0 ? `, or set ${networkLabel} to ${others.join(' or ')}` : ''}`,
      });
      return undefined;
    }
  } else if (ownNetworks.length > 0) {
    chosen = withIp.find((name) => ownNetworks.includes(name));
    if (!chosen) {
      problems.push({ code: Codes.networkMissing, message: `the container shares no network with berth (berth: ${ownNetworks.join(', ')}; container: ${withIp.join(', ') || 'none'})`, fix: `connect it to a network berth is on (docker network connect ${ownNetworks[0]} ${container.name}), or set ${networkLabel}` });
      return undefined;
    }
  } else if (withIp.length === 1) {
    chosen = withIp[0];
  } else if (options.network !== null && withIp.includes(options.network)) {
    chosen = options.network;
  } else {
    problems.push({
      code: withIp.length === 0 ? Codes.networkMissing : Codes.networkAmbiguous,
      message: withIp.length === 0 ? 'the container has no IP address on any network' : `the container is on several networks (${withIp.join(', ')})`,
      fix: `set ${networkLabel} or start berth with --network`,
    });
    return undefined;
  }
  return container.networks[chosen!];
}

/** A network_mode: host container listens on the host's interfaces: loopback for berth on the host, a gateway for berth in a container. */
function hostAddress(container: ContainerSummary, options: RoutingOptions, problems: Problem[]): string | undefined {
  if (options.own === null) return '127.0.0.1';
  if (options.own.hostAddress !== null) return options.own.hostAddress;
  problems.push({
    code: Codes.hostUnreachable,
    message: 'the container uses network_mode: host, and berth\'s container has no network whose gateway leads to the host',
    fix: `run berth with --network host, or connect it to a bridge network (docker network connect bridge ${options.own.name})`,
  });
  return undefined;
}

function noHostProblem(intent: RouteIntent, options: RoutingOptions): Problem {
  const label = intent.name === 'default' ? `${options.labelPrefix}.host` : `${options.labelPrefix}.route.${intent.name}.host`;
  return { code: Codes.routeNoHost, label, message: 'the route has no hostname', fix: `set ${label}, or start berth with --domain to route by name` };
}
