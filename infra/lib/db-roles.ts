import { APP_PRIVILEGES_ROLE, DATABASE_NAME } from './database';

/** Arbitrary but fixed: two db-roles runs at once (two deploys) take turns. */
const ROLES_LOCK_KEY = 727_002;

/**
 * The SQL that gives the app role what the API needs and nothing more, run as the master user
 * (the schema owner) after the migrations. `$GROUP`, `$LOGIN`, `$OWNER`, `$DB` and `$PASSWORD` are
 * filled in with quoted identifiers / a quoted literal. Idempotent: every deploy runs it again.
 *
 * - `$GROUP` (NOLOGIN) holds the privileges: CONNECT, USAGE on schema public, SELECT, INSERT,
 *   UPDATE and DELETE on every table but the migration history, the sequences, and (default
 *   privileges) the same on whatever the owner creates later. No DDL: PostgreSQL 15+ gives
 *   PUBLIC no CREATE on schema public, and the role owns nothing.
 * - `$LOGIN` (from the app secret) logs in as a member of `$GROUP`. Secrets Manager's
 *   multi-user rotation creates `<user>_clone` with the same memberships, so both alternating
 *   users get exactly these privileges.
 */
export const DB_ROLES_SQL: readonly string[] = [
  'SELECT pg_advisory_xact_lock(' + ROLES_LOCK_KEY + ')',
  'GRANT CONNECT ON DATABASE $DB TO $GROUP',
  'GRANT USAGE ON SCHEMA public TO $GROUP',
  'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $GROUP',
  'REVOKE ALL ON TABLE public.typeorm_migrations FROM $GROUP',
  'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO $GROUP',
  'ALTER DEFAULT PRIVILEGES FOR ROLE $OWNER IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO $GROUP',
  'ALTER DEFAULT PRIVILEGES FOR ROLE $OWNER IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO $GROUP',
];

/**
 * The `node -e` program of the migration task's db-roles container (the app image: `pg` is a
 * production dependency). It reads the master credentials (DB_USERNAME/DB_PASSWORD), the app
 * secret (APP_DB_USERNAME/APP_DB_PASSWORD) and the DB_* connection settings, creates the
 * group and login roles when missing, sets the login's password from the secret and applies
 * DB_ROLES_SQL, in one transaction. It prints one line and never the password.
 */
export function dbRolesScript(): string {
  return `
const fs = require('fs');
const { Client } = require('pg');
const env = process.env;
const sql = ${JSON.stringify(DB_ROLES_SQL)};
const group = ${JSON.stringify(APP_PRIVILEGES_ROLE)};
(async () => {
  const login = env.APP_DB_USERNAME || '';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(login) || login === env.DB_USERNAME) {
    throw new Error('APP_DB_USERNAME must be a plain role name other than the master user');
  }
  const ssl = env.DB_SSL === 'true' ? (env.DB_SSL_CA ? { ca: fs.readFileSync(env.DB_SSL_CA, 'utf8') } : true) : false;
  const client = new Client({
    host: env.DB_HOST, port: Number(env.DB_PORT || 5432), database: env.DB_NAME || ${JSON.stringify(DATABASE_NAME)},
    user: env.DB_USERNAME, password: env.DB_PASSWORD, ssl, connectionTimeoutMillis: 15000,
  });
  await client.connect();
  try {
    const id = (name) => client.escapeIdentifier(name);
    const exists = async (name) => (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount > 0;
    await client.query('BEGIN');
    if (!(await exists(group))) {
      await client.query('CREATE ROLE ' + id(group) + ' NOLOGIN');
    }
    const hasMigrations = (await client.query("SELECT to_regclass('public.typeorm_migrations') IS NOT NULL AS found")).rows[0].found;
    for (const statement of sql) {
      if (!hasMigrations && statement.includes('typeorm_migrations')) continue;
      await client.query(statement.replaceAll('$DB', () => id(client.database)).replaceAll('$GROUP', () => id(group)).replaceAll('$OWNER', () => id(env.DB_USERNAME)));
    }
    const password = client.escapeLiteral(env.APP_DB_PASSWORD || '');
    if (password === "''") throw new Error('APP_DB_PASSWORD is empty');
    await client.query((await exists(login) ? 'ALTER ROLE ' : 'CREATE ROLE ') + id(login) + ' WITH LOGIN PASSWORD ' + password);
    await client.query('GRANT ' + id(group) + ' TO ' + id(login));
    await client.query('COMMIT');
    console.log(JSON.stringify({ level: 'info', msg: 'db-roles: ' + login + ' has DML on the app tables through ' + group }));
  } finally {
    await client.end();
  }
})().catch((error) => {
  console.error('db-roles: ' + (error && error.message ? error.message.replace(/PASSWORD\\s+'[^']*'/gi, "PASSWORD '***'") : String(error)));
  process.exit(1);
});
`.trim();
}
