import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dbRolesScript } from '../lib/db-roles';
import { REPOSITORY_ROOT } from '../lib/service';

/**
 * The db-roles program against a real PostgreSQL: the machine's server (as CI's container check
 * and e2e steps use it; TEST_PG_ADMIN_URL to point elsewhere), with the `pg` package of the
 * repository root, which is what the app image carries. The master user is modelled as on RDS:
 * not a superuser, CREATEROLE, owner of the database and its tables.
 */
const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client } = require(require.resolve('pg', { paths: [REPOSITORY_ROOT] })) as typeof import('pg');

const suffix = randomBytes(4).toString('hex');
const DB = `dbroles_${suffix}`;
const OWNER = `owner_${suffix}`;
const LOGIN = `app_${suffix}`;
const CLONE = `${LOGIN}_clone`;
const PASSWORD = `pw'${suffix}\\x`;
const url = (user: string, password: string, db = DB) => {
  const u = new URL(ADMIN_URL);
  u.username = user;
  u.password = password;
  u.pathname = `/${db}`;
  return u.toString();
};

async function sql(connectionString: string, text: string): Promise<unknown[]> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

function runRoles(login: string, password: string): string {
  return execFileSync(process.execPath, ['-e', dbRolesScript()], {
    cwd: REPOSITORY_ROOT,
    encoding: 'utf8',
    stdio: 'pipe',
    env: {
      PATH: process.env.PATH,
      DB_HOST: new URL(ADMIN_URL).hostname,
      DB_PORT: new URL(ADMIN_URL).port || '5432',
      DB_NAME: DB,
      DB_SSL: 'false',
      DB_USERNAME: OWNER,
      DB_PASSWORD: 'owner-pw',
      APP_DB_USERNAME: login,
      APP_DB_PASSWORD: password,
    },
  });
}

// A group role name is global to the server: this run's group is the fixed api_app_rw.
describe('db-roles against PostgreSQL', () => {
  const app = () => url(LOGIN, PASSWORD);
  const owner = () => url(OWNER, 'owner-pw');

  beforeAll(async () => {
    await sql(ADMIN_URL, `CREATE ROLE ${OWNER} LOGIN CREATEROLE PASSWORD 'owner-pw'`);
    await sql(ADMIN_URL, `CREATE DATABASE ${DB} OWNER ${OWNER}`);
    await sql(
      owner(),
      'CREATE TABLE user_mapping (id serial PRIMARY KEY, name text); CREATE TABLE typeorm_migrations (id serial PRIMARY KEY, name text)',
    );
    runRoles(LOGIN, PASSWORD);
  });

  afterAll(async () => {
    await sql(ADMIN_URL, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    for (const role of [CLONE, LOGIN, OWNER]) {
      await sql(ADMIN_URL, `DROP ROLE IF EXISTS ${role}`);
    }
    // The group is global to the server: dropped unless another database still grants to it.
    await sql(ADMIN_URL, 'DROP ROLE IF EXISTS api_app_rw').catch(() => undefined);
  });

  it('creates the login from the secret: it reads and writes the app tables (sequences included)', async () => {
    await sql(
      app(),
      `INSERT INTO user_mapping (name) VALUES ('a'); UPDATE user_mapping SET name = 'b'; DELETE FROM user_mapping WHERE name = 'x'`,
    );
    expect(await sql(app(), 'SELECT name FROM user_mapping')).toEqual([{ name: 'b' }]);
  });

  it.each([
    ['the migration history', 'SELECT * FROM typeorm_migrations', /permission denied for table typeorm_migrations/],
    ['creating a table', 'CREATE TABLE x (id int)', /permission denied for schema public/],
    ['dropping a table', 'DROP TABLE user_mapping', /must be owner/],
    ['truncating', 'TRUNCATE user_mapping', /permission denied/],
    ['altering a table', 'ALTER TABLE user_mapping ADD COLUMN y int', /must be owner/],
  ])('refuses %s', async (_what, statement, error) => {
    await expect(sql(app(), statement)).rejects.toThrow(error);
  });

  it('gets DML on a table a later migration creates (default privileges), and stays idempotent', async () => {
    expect(runRoles(LOGIN, PASSWORD)).toMatch(/has DML on the app tables/);
    await sql(owner(), 'CREATE TABLE later_table (id serial PRIMARY KEY, v text)');
    await sql(app(), `INSERT INTO later_table (v) VALUES ('x')`);
    expect(await sql(app(), 'SELECT v FROM later_table')).toEqual([{ v: 'x' }]);
  });

  it("serves the rotation's clone user (a member of the current one), and is run again with it", async () => {
    await sql(owner(), `CREATE ROLE ${CLONE} LOGIN PASSWORD 'clone-pw'; GRANT ${LOGIN} TO ${CLONE}`);
    await sql(url(CLONE, 'clone-pw'), 'SELECT count(*) FROM user_mapping');
    expect(runRoles(CLONE, 'clone-pw')).toMatch(new RegExp(`${CLONE} has DML`));
  });

  it('refuses a user name that is not a plain role name, and never prints the password', () => {
    let stderr = '';
    try {
      runRoles('x; DROP TABLE user_mapping', PASSWORD);
    } catch (error) {
      stderr = String((error as { stderr: string }).stderr);
    }
    expect(stderr.trim()).toBe('db-roles: APP_DB_USERNAME must be a plain role name other than the master user');
    expect(runRoles(LOGIN, PASSWORD)).not.toContain(PASSWORD);
  });
});
