#!/usr/bin/env node
// npm run demo: berth in a container, as users run it, next to a few labelled demo services.
// Builds berth's image on a Node base made from this machine's own node (no registry needed but
// npm's), publishes the proxy on 127.0.0.1:$DEMO_PORT (default 8080), prints what to try, then
// follows berth's log. Ctrl-C removes every container and network the demo started.
// Needs `npm run build` first (npm run demo does it): the images come from the test helpers.
import { execFile, spawn } from 'node:child_process';
import { berthImage, busyboxImage } from '../dist/test/support/images.js';

const PORT = Number(process.env.DEMO_PORT || 8080);
const LABEL = 'berth-demo=1';
const NETWORK = 'berth-demo';
const BACKEND = 'berth-demo-backend';
const BERTH = 'berth-demo';
const ENGINE = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';

function docker(...args) {
  return new Promise((resolve, reject) => {
    execFile('docker', args, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker ${args[0]} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

const say = (text) => process.stdout.write(`${text}\n`);

/** Removes whatever carries the demo's label: this run's, or a run that was killed too hard to clean up. */
async function removeAll() {
  const containers = (await docker('ps', '-aq', '--filter', `label=${LABEL}`)).split('\n').filter(Boolean);
  if (containers.length > 0) await docker('rm', '--force', ...containers);
  const networks = (await docker('network', 'ls', '-q', '--filter', `label=${LABEL}`)).split('\n').filter(Boolean);
  if (networks.length > 0) await docker('network', 'rm', ...networks);
}

/** A busybox httpd serving one page; busybox exposes no port, so berth.port says where. */
function httpd(image, name, body, labels, network = NETWORK) {
  const args = ['run', '-d', '--init', '--name', name, '--label', LABEL, '--network', network, '--label', 'berth.port=80'];
  for (const [key, value] of Object.entries(labels)) args.push('--label', `${key}=${value}`);
  const page = body ?? 'hello from $(hostname)';
  return docker(...args, image, 'sh', '-c', `mkdir -p /www && echo "${page}" > /www/index.html && exec httpd -f -p 80 -h /www`);
}

async function waitReady() {
  const probe = "fetch('http://127.0.0.1:8081/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";
  for (let i = 0; i < 150; i++) {
    if (await docker('exec', BERTH, 'node', '-e', probe).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`berth was not ready after 15 s; see: docker logs ${BERTH}`);
}

let stopping = false;
let follower;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  follower?.kill();
  say('\nberth demo: removing the demo containers and networks...');
  try {
    await removeAll();
    say('berth demo: all gone.');
  } catch (err) {
    say(`berth demo: cleanup failed (${err.message}); remove by hand: docker rm -f $(docker ps -aq --filter label=${LABEL})`);
    code = 1;
  }
  process.exit(code);
}

// Ctrl-C reaches npm, this script and `docker logs` at once; this script alone cleans up.
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0));

try {
  if (!ENGINE.startsWith('unix://')) throw new Error(`the demo mounts the engine's socket into berth's container; DOCKER_HOST=${ENGINE} is not a socket`);
  const socket = ENGINE.slice('unix://'.length);
  await removeAll();
  say('berth demo: building the images (the first time takes a minute: npm ci runs inside the build)...');
  const [berth, busybox] = await Promise.all([berthImage('berth-local/berth'), busyboxImage()]);
  if (stopping) await new Promise(() => {}); // Ctrl-C during the build: stop() exits
  await docker('network', 'create', '--label', LABEL, NETWORK);
  await docker('network', 'create', '--label', LABEL, '--internal', BACKEND);

  // The socket's folder, read-only: see compose.example.yml for why the folder and what :ro does not do.
  // -t: berth logs pretty lines to a terminal, JSON otherwise.
  await docker('run', '-d', '-t', '--name', BERTH, '--label', LABEL, '--network', NETWORK,
    '--volume', `${socket.slice(0, socket.lastIndexOf('/')) || '/'}:/var/run:ro`, '--env', `BERTH_DOCKER_HOST=unix:///var/run/${socket.slice(socket.lastIndexOf('/') + 1)}`,
    '--publish', `127.0.0.1:${PORT}:80`, berth)
    .catch((err) => {
      throw /port is already allocated|address already in use/.test(err.message) ? new Error(`port ${PORT} is taken; try DEMO_PORT=8090 npm run demo`) : err;
    });
  await Promise.all([
    httpd(busybox, 'berth-demo-web', 'hello from web', { 'berth.host': 'web.localhost' }),
    httpd(busybox, 'berth-demo-api', 'hello from api', { 'berth.host': 'web.localhost', 'berth.path': '/api', 'berth.strip-prefix': 'true' }),
    httpd(busybox, 'berth-demo-pool-1', null, { 'berth.host': 'pool.localhost' }),
    httpd(busybox, 'berth-demo-pool-2', null, { 'berth.host': 'pool.localhost' }),
    httpd(busybox, 'berth-demo-lost', 'never reached', { 'berth.host': 'lost.localhost' }, BACKEND),
  ]);
  await docker('network', 'connect', BACKEND, 'berth-demo-api');
  await waitReady();

  const url = `http://127.0.0.1:${PORT}`;
  const admin = (path) => `docker exec ${BERTH} node -e "fetch('http://127.0.0.1:8081${path}').then((r) => r.text()).then(console.log)"`;
  say(`
berth runs in the container "${BERTH}" (image ${berth}), its proxy published on ${url}.
Demo services on the network "${NETWORK}": web, api (also on "${BACKEND}"), pool-1 and pool-2;
"lost" is on "${BACKEND}" only, which berth is not on.

Try:
  curl -H 'Host: web.localhost' ${url}/          # hello from web
  curl -H 'Host: web.localhost' ${url}/api/      # hello from api: /api routes to another container, prefix stripped
  curl -H 'Host: pool.localhost' ${url}/         # twice: two replicas, round robin
  curl -H 'Host: lost.localhost' ${url}/         # 404: it shares no network with berth...
  ${admin('/api/containers')}
                                                 # ...and here is why, with the fix (BERTH_E_NETWORK_MISSING)
  ${admin('/api/routes')}
  curl http://web.localhost:${PORT}/             # curl sends *.localhost to 127.0.0.1 by itself

Start one more and it is routed at once (the label lets Ctrl-C remove it too):
  docker run -d --rm --init --network ${NETWORK} --label ${LABEL} -l berth.host=new.localhost -l berth.port=80 ${busybox} sh -c 'echo hello from new > /tmp/index.html && exec httpd -f -p 80 -h /tmp'
  curl -H 'Host: new.localhost' ${url}/

berth's log follows. Ctrl-C stops and removes everything the demo started.
`);
  follower = spawn('docker', ['logs', '--follow', BERTH], { stdio: ['ignore', 'inherit', 'inherit'] });
  follower.on('exit', () => {
    if (!stopping) {
      say('berth demo: berth\'s container stopped.');
      void stop(1);
    }
  });
} catch (err) {
  say(`berth demo: ${err.message}`);
  await stop(1);
}
