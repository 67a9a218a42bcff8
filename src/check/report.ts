// What berth would make of each service's labels, as text a person reads: routes with their
// port, scheme, HTTPS and behaviours, then every problem with its code and fix. Pure.
import { readContainerLabels, renameProblems, type CompatReader } from '../docker/compat/index.js';
import type { RouteIntent } from '../docker/labels.js';
import type { Problem } from '../routes/types.js';
import type { ComposeService } from './compose.js';

export interface CheckReport {
  readonly text: string;
  readonly problems: number;
}

export function checkServices(services: readonly ComposeService[], labelPrefix: string, compat: readonly CompatReader[] = []): CheckReport {
  const lines: string[] = [];
  let problems = 0;
  for (const service of services) {
    const read = readContainerLabels(service.labels, labelPrefix, compat, service.env);
    const reading = { ...read, problems: renameProblems(read.problems, read.origin) };
    const routes = reading.enable === false ? [] : reading.routes.filter((route) => route.hosts !== null);
    lines.push(`${service.name}: ${routes.length === 0 ? 'no route' : routes.length === 1 ? '1 route' : `${routes.length} routes`}${reading.enable === false ? ' (enable=false)' : ''}`);
    for (const route of routes) lines.push(`  ${describeRoute(route)}`);
    for (const problem of reading.problems) lines.push(`  ${describeProblem(problem)}`);
    problems += reading.problems.length;
  }
  lines.push(problems === 0 ? 'no problems' : `${problems} problem${problems === 1 ? '' : 's'}`);
  return { text: lines.join('\n') + '\n', problems };
}

function describeRoute(route: RouteIntent): string {
  const where = (route.hosts ?? []).map((host) => `${host}${route.path}`).join(', ');
  const to = `${route.scheme}, port ${route.port ?? 'the only exposed one'}${route.stripPrefix ? ', prefix stripped' : ''}`;
  const tls = route.tls ? `, HTTPS${route.tlsRedirect ? ' (plain HTTP redirected)' : ''}${route.hsts ? `, HSTS ${route.hsts}` : ''}` : '';
  const spec = route.behaviours;
  const behaviours = spec
    ? spec.failClosed
      ? ' [CLOSED: access settings unreadable, answers 503]'
      : ` [${[
          spec.allow && `allow ${spec.allow.join(',')}`,
          spec.rateLimit && `rate-limit ${spec.rateLimit.perSecond}/s burst ${spec.rateLimit.burst}`,
          spec.basicAuth && `basic auth (${spec.basicAuth.users.length} user${spec.basicAuth.users.length === 1 ? '' : 's'})`,
          spec.forwardAuth && `forward auth ${spec.forwardAuth.url}`,
          spec.requestHeaders && 'request headers',
          spec.responseHeaders && 'response headers',
          spec.maxBodyBytes !== undefined && `max-body ${spec.maxBodyBytes} bytes`,
          spec.compress && 'compress',
        ]
          .filter(Boolean)
          .join('; ')}]`
    : '';
  return `${where} -> ${to}${tls}${behaviours}`;
}

function describeProblem(problem: Problem): string {
  return `${problem.code}${problem.label ? ` ${problem.label}` : ''}: ${problem.message}${problem.fix ? ` (fix: ${problem.fix})` : ''}`;
}
