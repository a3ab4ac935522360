# syntax=docker/dockerfile:1

# One image for every Tock process: the API (default), a worker (`node dist/bin/worker.js`) or both
# in one process (`node dist/bin/all.js`).

# ---- build: all dependencies, TypeScript compiled to dist/, the dashboard to dist/web ----------
FROM node:20-bookworm-slim AS build
WORKDIR /app

# The postinstall script builds only when tsconfig.build.json is present. It is not yet, so this
# layer installs dependencies only and stays cached until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci

COPY tsconfig*.json ./
COPY src ./src
COPY web ./web
COPY scripts ./scripts
COPY openapi.yaml ./
RUN npm run build

# ---- runtime: production dependencies and the compiled code ------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

# --ignore-scripts: the postinstall build needs dev dependencies and dist/ comes from the build stage.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY --from=build /app/dist ./dist
# The API reads openapi.yaml from the app root (two directories above dist/api).
COPY --from=build /app/openapi.yaml ./openapi.yaml
COPY --from=build /app/scripts ./scripts

USER node
EXPOSE 3000

# Liveness of the API process. Worker containers serve /health/live on WORKER_METRICS_PORT (9464)
# instead: docker-compose.yml gives them that check; with `docker run`, pass --no-healthcheck or your own.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]

# node directly (not npm) so that SIGTERM reaches Tock and the graceful shutdown runs.
CMD ["node", "dist/bin/api.js"]
