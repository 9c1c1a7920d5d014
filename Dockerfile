# Job board API: NestJS 12 + Fastify, compiled with tsc, run with plain node.
#   docker build -t jobboard-api .
#   docker compose up   (see docker-compose.yml: API + PostgreSQL 16 + Redis 7)

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install everything, compile, then drop dev dependencies -------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

COPY package.json package-lock.json ./
# The cache library is an npm workspace the app depends on by name, and the lock lists the Express example as one
# too: their manifests must be there before the install (the example's code is not copied).
COPY packages/redis-cache/package.json ./packages/redis-cache/package.json
COPY examples/express-app/package.json ./examples/express-app/package.json
# `npm ci` fails with this lock file (the registry lacks some jest-30 optional platform packages); npm install works.
RUN npm install --no-audit --no-fund

COPY tsconfig*.json ./
COPY packages/redis-cache/tsconfig*.json ./packages/redis-cache/
COPY packages/redis-cache/src ./packages/redis-cache/src
COPY src ./src
COPY drizzle ./drizzle
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: production dependencies, compiled JS and the SQL migrations only ---------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app

# Files stay owned by root (read-only for the app); only .data (embedded PGlite when DATABASE_URL is unset) is
# writable by the unprivileged `node` user that ships with the official image.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# node_modules/@jobboard/redis-cache is a link to the workspace: its manifest and compiled code.
COPY --from=build /app/packages/redis-cache/package.json ./packages/redis-cache/package.json
COPY --from=build /app/packages/redis-cache/dist ./packages/redis-cache/dist
# Migrations are read at runtime from <app root>/drizzle (dist/database/migrate.js resolves ../../drizzle).
COPY --from=build /app/drizzle ./drizzle
RUN mkdir -p /app/.data && chown node:node /app/.data

USER node
EXPOSE 3000

# Liveness only (touches nothing but the HTTP server). Slim images have no curl: use node's built-in fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/health',{signal:AbortSignal.timeout(4000)}).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node runs as PID 1 and handles SIGTERM itself (src/common/http/graceful-shutdown.ts): readiness turns 503 for
# SHUTDOWN_DRAIN_MS, then the app closes; keep the orchestrator's stop timeout above SHUTDOWN_TIMEOUT_MS.
CMD ["node", "dist/main.js"]
