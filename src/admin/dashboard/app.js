// berth's live dashboard: one stream of snapshots from /api/stream, drawn into the page.
// The stream is read with fetch() rather than EventSource, so that a bearer token can be sent.
// Everything shown comes from labels and hostnames that anyone who can start a container
// controls: it is only ever written with textContent and setAttribute, never parsed as HTML.

const STREAM_URL = 'api/stream';
const TOKEN_KEY = 'berth.adminToken';
/** The server sends a comment every 15 s: this much silence means the connection is gone. */
const STALE_MS = 40_000;
const BACKOFF = { initialMs: 500, maxMs: 8_000 };
/** Changes listed openly; older ones (the server keeps 50) sit behind a disclosure. */
const CHANGES_SHOWN = 8;

const byTestId = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);

// ---------------------------------------------------------------- small DOM helpers

/**
 * Creates an element. `props`: className, text, testid, data (dataset entries), title, hidden.
 * Children may be nodes, strings (as text) or null/false (skipped).
 */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.testid) node.dataset.testid = props.testid;
  if (props.title) node.title = props.title;
  if (props.hidden) node.hidden = true;
  for (const [key, value] of Object.entries(props.data ?? {})) {
    if (value !== undefined && value !== null) node.dataset[key] = String(value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

function setTone(node, tone) {
  if (tone) node.dataset.tone = tone;
  else delete node.dataset.tone;
}

function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

function clockTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const sameDay = date.toDateString() === new Date().toDateString();
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return sameDay ? time : `${date.toLocaleDateString()} ${time}`;
}

function timeElement(iso) {
  const node = h('time', { className: 'when', text: clockTime(iso), title: iso });
  node.dateTime = iso;
  return node;
}

const isWarning = (code) => /^BERTH_W_/.test(code);

// ---------------------------------------------------------------- server-sent events

/**
 * An SSE parser fed with text chunks as they arrive; a frame may be split anywhere, and one
 * chunk may hold several frames. Calls onEvent(type, data) for each complete event.
 */
export function createSseParser(onEvent) {
  let buffer = '';
  let type = '';
  let data = [];

  function line(text) {
    if (text === '') {
      if (data.length > 0) onEvent(type || 'message', data.join('\n'));
      type = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return; // a comment: the server's keep-alive ping
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }

  return function push(chunk) {
    buffer += chunk;
    // A trailing CR may be the first half of a CRLF: keep it until the next chunk says.
    const end = buffer.endsWith('\r') ? buffer.length - 1 : buffer.length;
    const lines = buffer.slice(0, end).split(/\r\n|\r|\n/);
    buffer = lines.pop() + buffer.slice(end);
    for (const text of lines) line(text);
  };
}

// ---------------------------------------------------------------- the token

const tokenStore = {
  get() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // Storage can be off (private mode): the token then lasts until the page is closed.
    }
    memoryToken = token;
  },
};
let memoryToken = null;
const currentToken = () => tokenStore.get() ?? memoryToken;

/** Shows the token form and resolves with what the person enters. */
function askForToken(refused) {
  const form = byTestId('token-form');
  const input = byTestId('token-input');
  const error = byTestId('token-error');
  error.hidden = !refused;
  error.textContent = refused ? 'berth refused that token. Check BERTH_ADMIN_TOKEN and try again.' : '';
  form.hidden = false;
  byTestId('forget-token').hidden = true;
  byTestId('waiting').hidden = true;
  byTestId('content').hidden = true;
  byTestId('status').hidden = true;
  input.value = '';
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener('submit', function submitted(event) {
      event.preventDefault();
      const token = input.value.trim();
      if (token === '') return;
      form.removeEventListener('submit', submitted);
      form.hidden = true;
      resolve(token);
    });
  });
}

// ---------------------------------------------------------------- the connection

function setConnection(state, text, why = '') {
  const pill = byTestId('connection');
  pill.dataset.state = state;
  pill.textContent = text;
  pill.title = why;
  const tones = { live: 'ok', connecting: 'muted', reconnecting: 'warn', token: 'warn' };
  setTone(pill, tones[state]);
  document.documentElement.dataset.connection = state;
}

let activeStream = null;

/**
 * Reads the stream until it ends or fails. Resolves with its outcome ('unauthorized', 'closed' or
 * 'failed' with the error) and whether any snapshot arrived; never throws.
 */
async function readStream(onSnapshot) {
  const controller = new AbortController();
  activeStream = controller;
  let stale;
  const keepAlive = () => {
    clearTimeout(stale);
    stale = setTimeout(() => controller.abort(new Error('the stream went silent')), STALE_MS);
  };
  const token = currentToken();
  let received = false;
  try {
    keepAlive();
    const response = await fetch(STREAM_URL, {
      headers: token ? { authorization: `Bearer ${token}`, accept: 'text/event-stream' } : { accept: 'text/event-stream' },
      cache: 'no-store',
      signal: controller.signal,
    });
    if (response.status === 401) return { outcome: 'unauthorized', received, sentToken: Boolean(token) };
    if (!response.ok || !response.body) throw new Error(`the stream answered ${response.status}`);
    const parse = createSseParser((type, data) => {
      if (type !== 'snapshot') return;
      received = true;
      onSnapshot(JSON.parse(data));
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      keepAlive();
      parse(value);
    }
    return { outcome: 'closed', received };
  } catch (error) {
    return { outcome: 'failed', received, error };
  } finally {
    clearTimeout(stale);
    if (activeStream === controller) activeStream = null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function connectForever(onSnapshot) {
  let delay = BACKOFF.initialMs;
  for (;;) {
    if (document.documentElement.dataset.connection !== 'live') setConnection('connecting', 'connecting');
    const result = await readStream((snapshot) => {
      setConnection('live', 'live');
      onSnapshot(snapshot);
    });
    if (result.outcome === 'unauthorized') {
      if (result.sentToken) tokenStore.set(null);
      setConnection('token', 'token needed');
      tokenStore.set(await askForToken(result.sentToken));
      byTestId('waiting').hidden = false;
      delay = BACKOFF.initialMs;
      continue;
    }
    if (result.received) delay = BACKOFF.initialMs;
    const seconds = Math.max(1, Math.round(delay / 1000));
    const why = result.outcome === 'failed' ? String(result.error?.message ?? result.error) : 'berth closed the stream';
    setConnection('reconnecting', 'disconnected, retrying', `${why}; next try in ${seconds} s`);
    byTestId('content').dataset.stale = 'true';
    await sleep(delay);
    delay = Math.min(delay * 2, BACKOFF.maxMs);
  }
}

function forgetToken() {
  tokenStore.set(null);
  activeStream?.abort();
}

// ---------------------------------------------------------------- drawing

/** Redraws a part only when its data changed, so open details and selections survive. */
const drawn = new Map();
function drawPart(name, data, draw) {
  const key = JSON.stringify(data);
  if (drawn.get(name) === key) return;
  drawn.set(name, key);
  draw(data);
}

function render(snapshot) {
  byTestId('waiting').hidden = true;
  byTestId('token-form').hidden = true;
  const content = byTestId('content');
  content.hidden = false;
  delete content.dataset.stale;
  content.dataset.version = String(snapshot.version);
  byTestId('forget-token').hidden = !currentToken();

  drawPart('status', snapshot.status, drawStatus);
  drawPart('conflicts', snapshot.conflicts, drawConflicts);
  drawPart('routes', snapshot.routes, drawRoutes);
  drawPart('containers', snapshot.containers, drawContainers);
  drawPart('routes-file', snapshot.status?.sources?.file ?? null, drawRoutesFile);
  drawPart('certificates', snapshot.certificates ?? null, drawCertificates);
  drawPart('changes', snapshot.changes, drawChanges);
  drawAttention(snapshot);
  document.title = titleFor(snapshot);
}

function titleFor({ status, containers }) {
  const problems = containers.filter((c) => c.problems.length > 0).length;
  const state = status.ready ? '' : ' (starting)';
  return problems > 0 ? `berth${state} · ${plural(problems, 'container')} with problems` : `berth${state}`;
}

// ---- header

function drawStatus(status) {
  byTestId('status').hidden = false;
  drawFact('readiness', status.ready ? 'ready' : 'starting', status.ready ? 'ok' : 'warn', null);
  byTestId('readiness').dataset.ready = String(status.ready);
  drawDocker(status.sources.docker ?? null);
  drawFact('table-version', `v${status.tableVersion}`, null, null);
  byTestId('table-version').dataset.version = String(status.tableVersion);
  drawRoutesFileFact(status.sources.file ?? null);
  drawOtherSources(status.sources);
}

const SOURCE_TONES = { ok: 'ok', starting: 'muted', invalid: 'bad', missing: 'warn', down: 'bad' };
const SOURCE_TITLES = { swarm: 'Swarm', redis: 'Redis', etcd: 'etcd' };

/** Sources beyond Docker and the routes file (swarm, stores): one fact each, state and routes. */
function drawOtherSources(sources) {
  const others = Object.entries(sources).filter(([name]) => name !== 'docker' && name !== 'file');
  byTestId('other-sources').replaceChildren(
    ...others.map(([name, source]) => {
      const value = h('span', { className: 'value', text: source.state });
      setTone(value, SOURCE_TONES[source.state] ?? null);
      const problems = source.problems.length > 0 ? ` · ${plural(source.problems.length, 'problem')}` : '';
      const detail = h('span', { className: 'detail', text: `${plural(source.routes, 'route')}${problems}` });
      return h('div', { className: 'fact', testid: `source-${name}`, data: { state: source.state } }, h('dt', { text: SOURCE_TITLES[name] ?? name }), h('dd', {}, value, detail));
    }),
  );
}

function drawFact(testid, text, tone, detail) {
  const fact = byTestId(testid);
  const value = h('span', { className: 'value', text });
  setTone(value, tone);
  fact.querySelector('dd').replaceChildren(value, detail ? h('span', { className: 'detail', text: detail }) : '');
}

function drawDocker(docker) {
  const fact = byTestId('docker');
  const error = byTestId('docker-error');
  if (!docker) {
    fact.dataset.connected = 'false';
    drawFact('docker', 'off', 'muted', 'started with --no-docker');
    error.hidden = true;
    return;
  }
  fact.dataset.connected = String(docker.connected);
  const state = docker.connected ? (docker.synced ? 'connected' : 'syncing') : 'disconnected';
  const api = docker.apiVersion ? ` · API ${docker.apiVersion}` : '';
  drawFact('docker', state, docker.connected ? (docker.synced ? 'ok' : 'warn') : 'bad', `${docker.address}${api}`);
  fact.title = [
    docker.lastSyncAt ? `last sync ${clockTime(docker.lastSyncAt)}` : 'not synced yet',
    plural(docker.eventsSeen, 'event'),
    plural(docker.resyncs, 'resync'),
    plural(docker.reconnects, 'reconnect'),
  ].join(' · ');
  error.hidden = !docker.lastError;
  error.textContent = '';
  if (docker.lastError) error.append(h('code', { text: docker.lastError.code }), ` ${docker.lastError.message}`);
}

function drawRoutesFileFact(file) {
  const fact = byTestId('routes-file');
  fact.hidden = !file;
  if (!file) return;
  fact.dataset.state = file.state;
  const details = { ok: plural(file.routes, 'route'), invalid: `last good kept: ${plural(file.routes, 'route')}` };
  drawFact('routes-file', file.state, SOURCE_TONES[file.state], details[file.state] ?? null);
}

/** A header link to what needs a person: skipped containers first, then conflicts. */
function drawAttention({ containers, conflicts }) {
  const troubled = containers.filter((c) => c.problems.length > 0).length;
  const fact = byTestId('attention');
  fact.hidden = troubled === 0 && conflicts.length === 0;
  const parts = [];
  if (troubled > 0) parts.push(`${plural(troubled, 'container')} with problems`);
  if (conflicts.length > 0) parts.push(plural(conflicts.length, 'conflict'));
  const link = byTestId('attention-link');
  link.textContent = parts.join(', ');
  link.href = troubled > 0 ? '#containers' : '#conflicts';
  setTone(link, troubled > 0 ? 'bad' : 'warn');
}

// ---- conflicts

function problemItem(problem, testid = 'problem') {
  const code = h('code', { className: 'code', text: problem.code });
  setTone(code, isWarning(problem.code) ? 'warn' : 'bad');
  const where = problem.line ? h('span', { className: 'where', text: `line ${problem.line}${problem.column ? `, column ${problem.column}` : ''}` }) : null;
  return h(
    'li',
    { className: 'problem', testid, data: { code: problem.code } },
    h('div', { className: 'problem-head' }, code, problem.label ? h('code', { className: 'label', text: problem.label }) : null, where),
    h('p', { className: 'message', testid: 'problem-message', text: problem.message }),
    problem.fix ? h('p', { className: 'fix', testid: 'fix' }, h('span', { className: 'fix-word', text: 'Fix: ' }), problem.fix) : null,
  );
}

function drawConflicts(conflicts) {
  byTestId('conflicts-section').hidden = conflicts.length === 0;
  byTestId('conflict-count').textContent = String(conflicts.length);
  byTestId('conflicts').replaceChildren(...conflicts.map((conflict) => problemItem(conflict, 'conflict')));
}

// ---- routes

function hostText(host) {
  return host === '*' ? h('span', { className: 'any-host', text: 'any host' }) : h('span', { className: 'host', text: host });
}

/** By host as a person looks for it (a wildcard by its domain, "any host" last), then by path. */
function routeOrder(a, b) {
  const anyHost = (route) => (route.host === '*' ? 1 : 0);
  const domain = (route) => route.host.replace(/^\*\./, '');
  return anyHost(a) - anyHost(b) || domain(a).localeCompare(domain(b)) || a.host.localeCompare(b.host) || a.path.localeCompare(b.path);
}

function drawRoutes(routes) {
  byTestId('route-count').textContent = String(routes.length);
  byTestId('routes-empty').hidden = routes.length > 0;
  byTestId('routes').closest('table').hidden = routes.length === 0;
  byTestId('routes').replaceChildren(...[...routes].sort(routeOrder).map(routeRow));
}

function routeRow(route) {
  const readyCount = route.endpoints.filter((endpoint) => endpoint.ready).length;
  const row = h(
    'tr',
    { testid: 'route', data: { host: route.host, path: route.path, source: route.source } },
    h('th', { className: 'route-name', data: { label: 'Route' } }, h('span', { className: 'route-line' }, hostText(route.host), h('code', { className: 'path', text: route.path }))),
    h('td', { className: 'source', data: { label: 'Source' } }, h('span', { className: 'tag', text: route.source, data: { source: route.source } })),
    h(
      'td',
      { className: 'targets', data: { label: 'Goes to' } },
      route.redirect ? redirectBlock(route.redirect) : endpointList(route.endpoints),
      !route.redirect && route.endpoints.length > 0 && readyCount === 0 ? h('p', { className: 'unavailable', testid: 'unavailable', text: 'no endpoint is ready: requests get 503' }) : null,
    ),
  );
  if (!route.redirect && readyCount === 0) row.dataset.severity = 'bad';
  return row;
}

function redirectBlock(redirect) {
  return h(
    'div',
    { className: 'redirect', testid: 'redirect' },
    h('span', { className: 'tag', text: `redirect ${redirect.code}` }),
    ' ',
    h('code', { className: 'url', text: redirect.location }),
    redirect.stripPrefix ? h('span', { className: 'tag subtle', text: 'strip prefix' }) : null,
    h('span', { className: 'origin', text: redirect.origin }),
  );
}

function endpointList(endpoints) {
  if (endpoints.length === 0) return h('p', { className: 'not-ready', text: 'no endpoints: requests get 503' });
  const name = (endpoint) => endpoint.container ?? endpoint.origin ?? '';
  const sorted = [...endpoints].sort((a, b) => name(a).localeCompare(name(b), undefined, { numeric: true }) || a.url.localeCompare(b.url));
  return h('ul', { className: 'plain endpoints' }, ...sorted.map(endpointItem));
}

function endpointItem(endpoint) {
  const name = endpoint.container ?? endpoint.origin ?? 'unknown';
  const dot = h('span', { className: 'dot', title: endpoint.ready ? 'ready' : 'not ready' });
  setTone(dot, endpoint.ready ? 'ok' : 'bad');
  return h(
    'li',
    { className: 'endpoint', testid: 'endpoint', data: { ready: endpoint.ready, container: endpoint.container } },
    h('div', { className: 'endpoint-head' }, dot, h('span', { className: endpoint.container ? 'container-name' : 'origin', text: name }), endpoint.stripPrefix ? h('span', { className: 'tag subtle', text: 'strip prefix' }) : null),
    h('code', { className: 'url', text: endpoint.url }),
    endpoint.ready ? null : h('p', { className: 'not-ready', testid: 'not-ready', text: `not ready: ${endpoint.notReadyReason ?? 'unknown reason'}` }),
  );
}

// ---- containers

function containerOrder(a, b) {
  const weight = (c) => (c.problems.length > 0 ? 0 : c.routed ? 1 : 2);
  return weight(a) - weight(b) || a.name.localeCompare(b.name);
}

function drawContainers(containers) {
  const shown = containers.filter((c) => c.routed || c.problems.length > 0).sort(containerOrder);
  const others = containers.filter((c) => !c.routed && c.problems.length === 0).sort(containerOrder);
  const withProblems = containers.filter((c) => c.problems.length > 0).length;
  byTestId('container-count').textContent = withProblems > 0 ? `${containers.length} · ${withProblems} with problems` : String(containers.length);
  byTestId('containers-empty').hidden = containers.length > 0;
  byTestId('containers').replaceChildren(...shown.map(containerCard));

  const details = byTestId('unrouted');
  details.hidden = others.length === 0;
  details.querySelector('summary').textContent = `${plural(others.length, 'more running container')}, not opted in`;
  byTestId('unrouted-list').replaceChildren(
    ...others.map((c) => h('li', { testid: 'unrouted-container', data: { name: c.name }, title: c.status }, c.name)),
  );
}

function containerCard(container) {
  const state = container.problems.length > 0 && !container.routed ? 'skipped' : container.routed ? (container.ready ? 'routed' : 'not ready') : 'not routed';
  const tone = { skipped: 'bad', routed: 'ok', 'not ready': 'warn', 'not routed': 'muted' }[state];
  const badge = h('span', { className: 'tag', testid: 'container-state', text: state });
  setTone(badge, tone);
  const card = h(
    'article',
    { className: 'card container', testid: 'container', data: { name: container.name, id: container.id, routed: container.routed, ready: container.ready } },
    h('header', { className: 'card-head' }, h('h3', { className: 'container-name', text: container.name }), badge),
    h('p', { className: 'meta', text: `${container.status} · ${container.id.slice(0, 12)}` }),
    container.routes.length > 0 ? h('ul', { className: 'plain container-routes' }, ...container.routes.map(containerRoute)) : null,
    !container.ready && container.notReadyReason ? h('p', { className: 'not-ready', testid: 'not-ready', text: `not ready: ${container.notReadyReason}` }) : null,
    container.problems.length > 0 ? h('ul', { className: 'plain problems' }, ...container.problems.map((p) => problemItem(p))) : null,
  );
  if (container.problems.length > 0) card.dataset.severity = container.problems.every((p) => isWarning(p.code)) ? 'warn' : 'bad';
  return card;
}

function containerRoute(route) {
  return h(
    'li',
    { className: 'container-route', data: { host: route.host ?? '*', path: route.path } },
    hostText(route.host ?? '*'),
    h('code', { className: 'path', text: route.path }),
    h(
      'span',
      { className: 'target' },
      h('span', { className: 'arrow', text: '→ ' }),
      h('code', { className: 'url', text: `${route.scheme}://${route.address.includes(':') ? `[${route.address}]` : route.address}:${route.port}` }),
    ),
  );
}

// ---- routes file

function drawRoutesFile(file) {
  const section = byTestId('routes-file-section');
  section.hidden = !file || (file.state === 'ok' && file.problems.length === 0);
  if (!file) return;
  const loaded = file.lastSyncAt ? ` · loaded ${clockTime(file.lastSyncAt)}` : '';
  byTestId('routes-file-path').replaceChildren(h('code', { text: file.path }), ` · ${file.state}${loaded}`);
  byTestId('routes-file-problems').replaceChildren(...file.problems.map((p) => problemItem(p)));
}

// ---- changes

// ---- certificates

/** Null when HTTPS is off: the section stays hidden. */
function drawCertificates(certificates) {
  byTestId('certificates-section').hidden = certificates === null;
  if (certificates === null) return;
  byTestId('certificate-count').textContent = String(certificates.length);
  byTestId('certificates').replaceChildren(...certificates.map(certificateRow));
}

function certificateRow(certificate) {
  const source = h('span', { className: 'source', text: certificate.source });
  setTone(source, certificate.source === 'default' ? 'warn' : 'ok');
  const acme = certificate.lastError
    ? h('span', {}, h('code', { className: 'code', text: certificate.lastError.code }), certificate.nextTryAt ? ` next try ${new Date(certificate.nextTryAt).toLocaleString()}` : '')
    : certificate.renewAt
      ? `renews ${new Date(certificate.renewAt).toLocaleDateString()}`
      : '';
  return h(
    'tr',
    { testid: 'certificate', data: { host: certificate.host, source: certificate.source } },
    h('td', {}, h('span', { className: 'host', text: certificate.host })),
    h('td', {}, source, certificate.issuer ? h('div', { className: 'meta', text: certificate.issuer }) : null),
    h('td', { text: certificate.notAfter ? new Date(certificate.notAfter).toLocaleDateString() : '' }),
    h('td', {}, acme),
  );
}

function drawChanges(changes) {
  byTestId('changes-empty').hidden = changes.length > 0;
  byTestId('changes').replaceChildren(...changes.slice(0, CHANGES_SHOWN).map(changeItem));
  const older = changes.slice(CHANGES_SHOWN);
  const details = byTestId('older-changes');
  details.hidden = older.length === 0;
  details.querySelector('summary').textContent = `${plural(older.length, 'older change')}`;
  byTestId('older-changes-list').replaceChildren(...older.map(changeItem));
}

function changeItem(change) {
  const lines = [
    ...change.added.map((route) => ['added', '+', route]),
    ...change.removed.map((route) => ['removed', '−', route]),
    ...change.changed.map((route) => ['changed', '~', route]),
  ];
  return h(
    'li',
    { className: 'change', testid: 'change', data: { version: change.version } },
    h('div', { className: 'change-head' }, timeElement(change.at), h('span', { className: 'version', text: `v${change.version}` })),
    lines.length === 0
      ? h('p', { className: 'meta', text: 'conflicts changed' })
      : h(
          'ul',
          { className: 'plain change-lines' },
          ...lines.map(([kind, sign, route]) => h('li', { className: 'change-line', testid: 'change-line', data: { kind }, title: kind }, h('span', { className: 'sign', text: sign }), route)),
        ),
  );
}

// ---------------------------------------------------------------- start

function start() {
  byTestId('forget-token').addEventListener('click', forgetToken);
  window.berthDashboard = { snapshots: 0 };
  connectForever((snapshot) => {
    window.berthDashboard.snapshots += 1;
    render(snapshot);
  });
}

start();
