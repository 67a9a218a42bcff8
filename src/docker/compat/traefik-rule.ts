// A Traefik router rule -> the hosts and the one path prefix berth can route on. Pure.
// Traefik's matchers (v2 and v3 syntax): Host(`a`, `b`), PathPrefix(`/p`), Path(`/p`), joined
// with && and ||, grouped with parentheses. berth routes a set of hosts and one path prefix, so
// a rule reads only when it comes to "any of these hosts, under this path".

export interface RuleRoute {
  readonly hosts: readonly string[];
  /** `/` when the rule names no path. */
  readonly path: string;
  /** The rule used Path(...), an exact path, read as a prefix. */
  readonly exactPath: boolean;
}

export type RuleReading = { readonly ok: true; readonly route: RuleRoute } | { readonly ok: false; readonly reason: string };

type Token = { kind: 'name'; text: string } | { kind: 'string'; text: string } | { kind: '(' | ')' | ',' | '&&' | '||' | '!' };

/** One way the rule can match: hosts (null: any host) and a path (null: any path). */
interface Alternative {
  readonly hosts: readonly string[] | null;
  readonly path: { readonly value: string; readonly exact: boolean } | null;
}

class Unreadable extends Error {}

const HOST_MATCHERS = new Set(['host', 'hostheader']);
const PATH_MATCHERS = new Set(['path', 'pathprefix']);

export function readRule(rule: string): RuleReading {
  let alternatives: Alternative[];
  try {
    const tokens = tokenize(rule);
    const parser = new Parser(tokens);
    alternatives = parser.expression();
    if (!parser.done()) throw new Unreadable('unexpected text after the rule');
  } catch (error) {
    if (error instanceof Unreadable) return { ok: false, reason: error.message };
    throw error;
  }
  if (alternatives.length === 0) return { ok: false, reason: 'the rule can never match (Host clauses joined with && name different hosts)' };
  const first = alternatives[0]!;
  if (alternatives.some((alt) => alt.path?.value !== first.path?.value || alt.path?.exact !== first.path?.exact)) {
    return { ok: false, reason: 'the rule names several paths; a berth route has one path prefix (give each path its own router)' };
  }
  if (alternatives.some((alt) => alt.hosts === null)) {
    return { ok: false, reason: 'a part of the rule matches any host; berth routes by hostname (add Host(`...`) to it)' };
  }
  const hosts: string[] = [];
  for (const alt of alternatives) for (const host of alt.hosts!) if (!hosts.includes(host)) hosts.push(host);
  return { ok: true, route: { hosts, path: first.path?.value ?? '/', exactPath: first.path?.exact ?? false } };
}

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const c = rule[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',' || c === '!') {
      tokens.push({ kind: c });
      i++;
    } else if (rule.startsWith('&&', i) || rule.startsWith('||', i)) {
      tokens.push({ kind: rule.slice(i, i + 2) as '&&' | '||' });
      i += 2;
    } else if (c === '`' || c === '"') {
      const end = rule.indexOf(c, i + 1);
      if (end === -1) throw new Unreadable(`a ${c} string is not closed`);
      tokens.push({ kind: 'string', text: rule.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      const name = /^[A-Za-z][A-Za-z0-9]*/.exec(rule.slice(i))![0];
      tokens.push({ kind: 'name', text: name });
      i += name.length;
    } else {
      throw new Unreadable(`unexpected "${c}" in the rule`);
    }
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  done(): boolean {
    return this.at === this.tokens.length;
  }

  expression(): Alternative[] {
    let alternatives = this.conjunction();
    while (this.peek('||')) {
      this.at++;
      alternatives = [...alternatives, ...this.conjunction()];
    }
    return alternatives;
  }

  private conjunction(): Alternative[] {
    let alternatives = this.unary();
    while (this.peek('&&')) {
      this.at++;
      const right = this.unary();
      alternatives = alternatives.flatMap((a) => right.map((b) => both(a, b)).filter((alt): alt is Alternative => alt !== null));
    }
    return alternatives;
  }

  private unary(): Alternative[] {
    const token = this.tokens[this.at];
    if (!token) throw new Unreadable('the rule ends too soon');
    if (token.kind === '!') throw new Unreadable('berth cannot express a negated matcher (!)');
    if (token.kind === '(') {
      this.at++;
      const inner = this.expression();
      this.expect(')');
      return inner;
    }
    if (token.kind !== 'name') throw new Unreadable('a matcher such as Host(`...`) was expected');
    this.at++;
    const args = this.arguments();
    const matcher = token.text.toLowerCase();
    if (HOST_MATCHERS.has(matcher)) return [{ hosts: args.map((host) => host.trim().toLowerCase()), path: null }];
    if (PATH_MATCHERS.has(matcher)) {
      const exact = matcher === 'path';
      for (const path of args) if (path.includes('{')) throw new Unreadable(`berth cannot express the pattern in ${token.text}(\`${path}\`)`);
      return args.map((value) => ({ hosts: null, path: { value, exact } }));
    }
    throw new Unreadable(`berth cannot express ${token.text}(...): it routes on Host, PathPrefix and Path only`);
  }

  private arguments(): string[] {
    this.expect('(');
    const args: string[] = [];
    for (;;) {
      const token = this.tokens[this.at];
      if (token?.kind !== 'string') throw new Unreadable('a matcher takes quoted values, e.g. Host(`example.com`)');
      args.push(token.text);
      this.at++;
      if (this.peek(',')) this.at++;
      else break;
    }
    this.expect(')');
    return args;
  }

  private peek(kind: Token['kind']): boolean {
    return this.tokens[this.at]?.kind === kind;
  }

  private expect(kind: Token['kind']): void {
    if (!this.peek(kind)) throw new Unreadable(`"${kind}" was expected`);
    this.at++;
  }
}

/** Both alternatives at once, or null when they can never both match. */
function both(a: Alternative, b: Alternative): Alternative | null {
  let hosts = a.hosts ?? b.hosts;
  if (a.hosts && b.hosts) {
    hosts = a.hosts.filter((host) => b.hosts!.includes(host));
    if (hosts.length === 0) return null;
  }
  if (a.path && b.path && (a.path.value !== b.path.value || a.path.exact !== b.path.exact)) {
    throw new Unreadable('berth cannot express two paths joined with &&');
  }
  return { hosts, path: a.path ?? b.path };
}
