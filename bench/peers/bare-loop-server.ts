// The smallest host-routing proxy on http-proxy 1.18 (LIBRARY=http-proxy, what a user of the named
// library writes first) or on http-proxy-3 (the default), what a naive Node router does: one Map
// lookup, then proxy.web, with a keep-alive agent. With WORKERS > 1, node:cluster runs that many
// copies (the usual way to scale Node). Run as a program: PORT, ORIGIN_PORT, WORKERS and LIBRARY
// come from the environment.
import cluster from 'node:cluster';
import http from 'node:http';
import { createRequire } from 'node:module';
import { createProxyServer } from 'http-proxy-3';

const workers = Number(process.env['WORKERS'] ?? 1);
// http-proxy 1.18 has no types of its own; its createProxyServer has the same shape as http-proxy-3's.
const create: typeof createProxyServer = process.env['LIBRARY'] === 'http-proxy' ? (createRequire(import.meta.url)('http-proxy') as { createProxyServer: typeof createProxyServer }).createProxyServer : createProxyServer;

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  // A clean exit, so that node --cpu-prof writes its profile.
  process.on('SIGTERM', () => process.exit(0));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = create({ agent, xfwd: true });
  proxy.on('error', (_error, _req, res) => {
    if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502);
    res.end('bad gateway');
  });
  const routes = new Map([['app.test', `http://127.0.0.1:${process.env['ORIGIN_PORT']}`]]);
  http
    .createServer((req, res) => {
      const target = routes.get((req.headers.host ?? '').split(':')[0]!);
      if (!target) {
        res.writeHead(404);
        return res.end('no route');
      }
      proxy.web(req, res, { target });
    })
    .listen(Number(process.env['PORT']), '127.0.0.1');
}
