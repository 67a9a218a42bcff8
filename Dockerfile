# berth as a container: the proxy on port 80, the admin API on loopback inside the container.
#
#   docker build -t berth .
#   docker run -d --name berth -p 80:80 -v /var/run:/var/run:ro berth
#
# Without access to Docker Hub, build on a base assembled from this machine's own node and npm:
#   docker build --build-arg NODE_IMAGE="$(bash scripts/node-base-image.sh)" -t berth .
# (npm ci still needs the npm registry; that base carries the system CA bundle to reach it.)
#
# The base is any Node.js >= 20.19 image with npm and a /bin/sh; the default is the current LTS,
# slim variant.
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: every dependency, TypeScript compiled to dist/src.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs its install script. ssh2 and cpu-features (optional
# native speed-ups for SSH, which berth never speaks) would try node-gyp, which wants a compiler
# and Node headers from nodejs.org; protobufjs's only checks versions.
RUN npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the compiled code, nothing else.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    BERTH_HTTP_PORT=80 \
    BERTH_HTTPS_PORT=443 \
    BERTH_ACME_STORAGE=/data \
    BERTH_ADMIN_ADDR=127.0.0.1:8081 \
    BERTH_SHUTDOWN_TIMEOUT=8s
# BERTH_HTTPS_PORT=443: the image serves HTTPS too (routes opt in with berth.tls=true); certificates
# come from --certs-dir or, with BERTH_ACME_EMAIL set, from Let's Encrypt. /data keeps the ACME
# account, the certificates and the default certificate: give it a volume, or every re-creation
# of the container orders again (and Let's Encrypt allows 5 duplicate certificates a week).
# BERTH_ADMIN_ADDR: the admin API stays on loopback inside the container. Read it with
# `docker exec berth node -e "fetch('http://127.0.0.1:8081/api/routes')..."`, or set
# BERTH_ADMIN_ADDR=0.0.0.0:8081 with BERTH_ADMIN_TOKEN and publish it to 127.0.0.1 only. Change it
# with the variable, not the flag: the health check reads the variable.
# BERTH_SHUTDOWN_TIMEOUT=8s: in-flight requests get 8 s after SIGTERM, so berth exits 0 on its own
# before `docker stop` sends SIGKILL (after 10 s unless --stop-timeout / stop_grace_period says more).
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier && rm -rf /root/.npm /tmp/*
COPY --from=build /app/dist/src ./dist/src

# Root, on purpose. berth needs the Docker socket, which is root:docker 0660 with a "docker" group
# id that differs from host to host, so a fixed non-root user could not open it; and whoever can
# talk to that socket is root on the host anyway, so a non-root uid in here would buy little.
# What does reduce the risk is a socket proxy that only lets through the four GETs berth uses
# (see compose.example.yml). Behind one (DOCKER_HOST=tcp://...), no socket file is needed and
# berth runs fine as the image's unprivileged user: `docker run --user node ...`. On the socket
# directly, a non-root user also works when given the socket's group:
#   docker run --user node --group-add "$(stat -c %g /var/run/docker.sock)" ...
# Port 80 needs no privilege either way: Docker lets containers bind low ports
# (net.ipv4.ip_unprivileged_port_start=0), except with --network host.

EXPOSE 80 443
VOLUME ["/data"]
# berth stops accepting on SIGTERM, lets in-flight requests finish (BERTH_SHUTDOWN_TIMEOUT), exits 0.
# node runs as PID 1 and handles SIGTERM and SIGINT itself. Its only children are the --workers
# processes, which it waits for itself: nothing is left for an init to reap.
STOPSIGNAL SIGTERM
# Healthy once the first Docker sync is done (/readyz); node itself asks, as slim images have no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const a = process.env.BERTH_ADMIN_ADDR || '127.0.0.1:8081'; const i = a.lastIndexOf(':'); let host = a.slice(0, i).replace(/^\\[|\\]$/g, ''); if (host === '0.0.0.0' || host === '::') host = '127.0.0.1'; require('http').get({ host, port: Number(a.slice(i + 1)), path: '/readyz', timeout: 2000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('timeout', function () { this.destroy(); }).on('error', () => process.exit(1));"]
ENTRYPOINT ["node", "/app/dist/src/cli.js"]

LABEL org.opencontainers.image.title="berth" \
      org.opencontainers.image.description="Routes HTTP and WebSocket traffic to Docker containers from their labels" \
      org.opencontainers.image.licenses="MIT"
