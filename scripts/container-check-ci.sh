#!/usr/bin/env bash
# container-check-ci.sh - CI step "the container image is built and run": builds the Dockerfile
# and runs the image the way an ECS service would, against real dependencies, without Docker.
#
#   bash scripts/container-check-ci.sh
#
# 1. PostgreSQL: a scratch database container_check_<random> on the machine's server
#    (CONTAINER_CHECK_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres, trust auth),
#    dropped at the end.
# 2. Cognito: cognito-local with a fresh user pool (scripts/ci-cognito-pool.ts), stopped at the end.
# 3. the CI machine's container-check tool (CONTAINER_CHECK_SCRIPT; by default
#    shared/tools/container-check.sh in the folder that holds the repository): builds the image with buildah
#    (from a copy of the Dockerfile without the base image digest, see step 3 below),
#    runs the migrations as a one-off task (node dist/database/migrate.js run), starts the
#    service with only environment variables (host network), waits for GET /health/ready = 200,
#    checks the runtime user is not root and that no devDependency is in the image, sends
#    SIGTERM and expects exit 0.
# 4. Checks that the one-off migration created the schema (table user_mapping).
#
# Needs: root (buildah), `npm ci` done (node_modules/.bin: tsx, Node 24), PostgreSQL on
# 127.0.0.1:5432. The first run also builds a stand-in node:24-bookworm-slim base image (a few
# minutes, cached afterwards; see the header of container-check.sh).
# Exit status: 0 only if the image passes every check.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHECK=${CONTAINER_CHECK_SCRIPT:-$(dirname "$REPO")/shared/tools/container-check.sh}
PG_ADMIN_URL=${CONTAINER_CHECK_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
# npm's PATH: Node 24 and tsx from the project's devDependencies (the system node may be older)
export PATH="$REPO/node_modules/.bin:$PATH"

T0=$(date +%s)
log() { printf '[container-check-ci] %s\n' "$*"; }
die() { printf '[container-check-ci] ERROR: %s\n' "$*" >&2; exit 1; }

[ -f "$CHECK" ] || die "container-check.sh not found at $CHECK (expected shared/ beside the repository)"
[ -x "$REPO/node_modules/.bin/tsx" ] || die "node_modules/.bin/tsx missing: run npm ci first"
cd "$REPO"

# ---- PostgreSQL helpers (node + pg from node_modules: no psql client needed) -----------------
# pg_exec URL SQL -> prints the first column of each row
pg_exec() {
    node -e '
        const { Client } = require("pg");
        const client = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 5000 });
        client.connect()
          .then(() => client.query(process.argv[2]))
          .then((r) => { for (const row of r.rows || []) console.log(Object.values(row)[0]); return client.end(); })
          .catch((e) => { console.error(e.message); process.exit(1); });
    ' "$1" "$2"
}

DB_NAME="container_check_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
DB_URL="${PG_ADMIN_URL%/*}/$DB_NAME"
TMP=$(mktemp -d /tmp/container-check-ci.XXXXXX)
COGNITO_PID=""
DB_CREATED=0

cleanup() {
    local rc=$?
    set +e
    if [ -n "$COGNITO_PID" ]; then
        # the helper runs in its own process group (setsid): stop it and the emulator it started
        kill -TERM -- "-$COGNITO_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$COGNITO_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$COGNITO_PID" 2>/dev/null
        wait "$COGNITO_PID" 2>/dev/null
    fi
    if [ "$DB_CREATED" = 1 ]; then
        pg_exec "$PG_ADMIN_URL" "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null \
            && log "dropped database $DB_NAME" || log "WARNING: could not drop database $DB_NAME"
    fi
    rm -rf "$TMP"
    log "total time: $(( $(date +%s) - T0 ))s"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

log "node $(node --version) from $(command -v node)"

# ---- 1. scratch database ---------------------------------------------------------------------
pg_exec "$PG_ADMIN_URL" "CREATE DATABASE \"$DB_NAME\"" >/dev/null || die "cannot create database on $PG_ADMIN_URL"
DB_CREATED=1
log "database: $DB_URL"

# ---- 2. cognito-local with a fresh pool ------------------------------------------------------
setsid tsx scripts/ci-cognito-pool.ts >"$TMP/cognito.env" 2>"$TMP/cognito.log" </dev/null &
COGNITO_PID=$!
for _ in $(seq 120); do
    grep -q '^READY=1$' "$TMP/cognito.env" 2>/dev/null && break
    kill -0 "$COGNITO_PID" 2>/dev/null || break
    sleep 0.5
done
if ! grep -q '^READY=1$' "$TMP/cognito.env" 2>/dev/null; then
    cat "$TMP/cognito.log" >&2
    die "cognito-local did not start"
fi
COGNITO_ENV=()
while IFS= read -r line; do
    [[ "$line" =~ ^[A-Z_][A-Z0-9_]*= ]] && [[ "$line" != READY=* ]] && COGNITO_ENV+=("$line")
done <"$TMP/cognito.env"
log "cognito: $(grep -E '^(COGNITO_ENDPOINT|COGNITO_USER_POOL_ID)=' "$TMP/cognito.env" | tr '\n' ' ')"

# ---- 3. build and run the image like an ECS task ---------------------------------------------
APP_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
ENV_ARGS=(
    NODE_ENV=production
    "PORT=$APP_PORT"
    "DATABASE_URL=$DB_URL"
    COGNITO_REGION=ap-northeast-2
    "${COGNITO_ENV[@]}"
    LOG_LEVEL=warn
)
# The Dockerfile pins its base image by digest (what production builds). This machine has no
# registry: container-check.sh builds on a local stand-in tagged node:24-bookworm-slim, which
# cannot have the upstream digest. So the check builds from a copy whose FROM lines name the tag
# alone; every other line is the production Dockerfile's.
sed -E 's/^([[:space:]]*FROM[[:space:]]+node:24-bookworm-slim)@sha256:[0-9a-f]{64}/\1/' Dockerfile >"$TMP/Dockerfile.ci"
grep -qE '^FROM node:24-bookworm-slim AS ' "$TMP/Dockerfile.ci" || die "Dockerfile: expected FROM node:24-bookworm-slim@sha256:<digest> lines"
log "container-check: $CHECK (app port $APP_PORT; Dockerfile with the base digest dropped: $TMP/Dockerfile.ci)"
CHECK_RC=0
CONTAINER_CHECK_DOCKERFILE="$TMP/Dockerfile.ci" CONTAINER_CHECK_ONESHOT="node dist/database/migrate.js run" \
    bash "$CHECK" "$REPO" "${ENV_ARGS[@]}" 2>&1 | tee "$TMP/check.log" || CHECK_RC=$?
LAST=$(grep -E '^container-check: build=' "$TMP/check.log" | tail -n 1 || true)
echo
log "result: ${LAST:-<no result line>}"
[ "$CHECK_RC" = 0 ] || die "container-check failed (exit $CHECK_RC)"
for want in build=ok run=ok ready=200 nonroot=yes devdeps=0 exit=0; do
    [[ " $LAST " == *" $want "* ]] || die "container-check result lacks $want"
done

# ---- 4. the one-off migration task created the schema ----------------------------------------
TABLE=$(pg_exec "$DB_URL" "SELECT to_regclass('public.user_mapping')::text") || die "cannot query $DB_NAME"
[ "$TABLE" = user_mapping ] || die "table user_mapping does not exist after the migration one-shot"
MIGRATIONS=$(pg_exec "$DB_URL" "SELECT string_agg(name, ', ' ORDER BY id) FROM typeorm_migrations" || echo '?')
log "schema ok: user_mapping exists; applied migrations: $MIGRATIONS"

SIZE=$(sed -nE 's/.* size=([^ ]+) .*/\1/p' <<<"$LAST")
log "image size: ${SIZE} MB ($(buildah images --noheading --format '{{.Size}}' localhost/container-check/app:latest 2>/dev/null | head -1))"
log "PASS"
