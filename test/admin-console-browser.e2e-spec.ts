import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../scripts/build-console';
import { freePort } from '../tools/local-stack/ports';
import { GuardedPage, guardedPage, HAS_CHROMIUM, launchChromium, unnamedControls } from './support/browser';
import { expectStatus, PASSWORD, startTestApp, TestApp, TestUser, uniqueEmail } from './support/test-app';
import { totp } from './support/totp';

const SCREENSHOT = join(__dirname, '..', 'docs', 'images', 'admin-console.png');

/** Waits until the page's table shows `count` rows, each mentioning `text`. */
async function rowsShown(page: Page, count: number, text: string): Promise<void> {
  await page.waitForFunction(
    ([n, needle]) => {
      // Runs in the page (the tests' TypeScript has no DOM types).
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ textContent: string | null }> } })
        .document;
      const rows = [...doc.querySelectorAll('tbody tr')];
      return rows.length === n && rows.every((row) => row.textContent?.includes(needle) === true);
    },
    [count, text] as const,
  );
}

const suite = HAS_CHROMIUM ? describe : describe.skip;
if (!HAS_CHROMIUM) {
  process.stdout.write('admin console browser tests skipped: /usr/bin/chromium is missing (apt-get install -y chromium)\n');
}

suite('Admin console in a real browser (headless Chromium)', () => {
  let t: TestApp;
  let browser: Browser;
  let admin: TestUser;
  let open: GuardedPage[] = [];

  beforeAll(async () => {
    await buildConsole();
    [t, browser] = await Promise.all([startTestApp(), launchChromium()]);
    admin = await t.given.user({ groups: ['admin'], nickname: 'console-admin' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A guarded page; afterEach fails the test on any CSP violation, error or foreign request. */
  async function newPage(app: TestApp = t, navigable?: string): Promise<Page> {
    const guarded = await guardedPage(browser, new URL(app.baseUrl).origin, navigable);
    open.push(guarded);
    return guarded.page;
  }

  afterEach(async () => {
    const problems = open.flatMap((g) => g.problems);
    await Promise.all(open.map((g) => g.context.close()));
    open = [];
    expect(problems).toEqual([]);
  });

  async function expectAllControlsNamed(page: Page): Promise<void> {
    expect(await unnamedControls(page)).toEqual([]);
  }

  async function signIn(page: Page, user: { email: string; password: string }, app: TestApp = t): Promise<void> {
    await page.goto(`${app.baseUrl}/admin/`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  }

  it('signs in with email, password and a TOTP code from the keyboard alone; tokens stay in memory', async () => {
    const user = await t.given.user({ groups: ['admin'] });
    const start = await t.api.as(user).users.mfa.startTotp();
    expectStatus(start, 200);
    const secret = start.body.secretCode as string;
    expectStatus(await t.api.as(user).users.mfa.verifyTotp({ code: totp(secret) }), 204);

    const page = await newPage();
    await page.goto(`${t.baseUrl}/admin/`);
    await page.getByRole('heading', { name: 'Admin console' }).waitFor();
    await expectAllControlsNamed(page);
    await page.keyboard.press('Tab');
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    const code = page.getByLabel('Authentication code');
    await code.waitFor();
    await expectAllControlsNamed(page);
    // The code field has the focus: typing and Enter answer the challenge.
    await page.keyboard.type(totp(secret));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await expectAllControlsNamed(page);

    const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
    expect(stored).toEqual({ local: 0, session: 0 });
    expect(await page.context().cookies()).toEqual([]);
    // Memory only: a reload asks to sign in again.
    await page.reload();
    await page.getByLabel('Password').waitFor();
  });

  it('shows the detail of a failed sign-in, refuses a non-admin, and sends an admin back to sign-in when the API refuses the token', async () => {
    const page = await newPage();
    await page.goto(`${t.baseUrl}/admin/`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('Wr0ng!Password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const login = await t.api.auth.login({ email: admin.email, password: 'Wr0ng!Password' });
    await page
      .getByRole('alert')
      .filter({ hasText: login.body.detail as string })
      .waitFor();

    const member = await t.given.user();
    await page.getByLabel('Email').fill(member.email);
    await page.getByLabel('Password').fill(member.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not in the admin group' }).waitFor();

    // A second admin, signed in; the first disables them: the next call is refused (403).
    const other = await t.given.user({ groups: ['admin'] });
    await signIn(page, other);
    await page.getByRole('table').waitFor(); // the users page has loaded: no call in flight
    expectStatus(await t.api.as(admin).admin.users.disable(other.id), 204);
    await page.getByRole('link', { name: 'Groups' }).click();
    const disabled = await t.api.as(other).admin.groups.list();
    expect(disabled.status).toBe(403);
    await page
      .getByRole('alert')
      .filter({ hasText: `Signed out: ${disabled.body.detail as string}` })
      .waitFor();
    await page.getByLabel('Password').waitFor();

    // A third, removed from admin while signed in: the old token is refused (401).
    const third = await t.given.user({ groups: ['admin'] });
    await signIn(page, third);
    await page.getByRole('table').waitFor(); // the users page has loaded: no call in flight
    expectStatus(await t.api.as(admin).admin.users.removeFromGroup(third.id, 'admin'), 204);
    await page.getByRole('link', { name: 'Audit log' }).click();
    const revoked = await t.api.as(third).admin.groups.list();
    expect(revoked.status).toBe(401);
    await page
      .getByRole('alert')
      .filter({ hasText: `Signed out: ${revoked.body.detail as string}` })
      .waitFor();
    await page.getByLabel('Password').waitFor();
  });

  it('users: search, status filter, cursor paging and invite', async () => {
    const tag = `pager${Date.now().toString(36)}`;
    await t.db.query(
      `INSERT INTO user_mapping (cognito_sub, cognito_username, email, nickname)
       SELECT gen_random_uuid()::text, $1 || i, $1 || i || '@example.com', $1 FROM generate_series(1, 21) AS i`,
      [tag],
    );
    await t.db.query(`UPDATE user_mapping SET status = 'disabled' WHERE email = $1`, [`${tag}7@example.com`]);
    const page = await newPage();
    await signIn(page, admin);

    await page.getByRole('searchbox', { name: 'Search by email or nickname' }).fill(tag);
    await page.getByRole('button', { name: 'Search' }).click();
    await rowsShown(page, 20, tag);
    await page.getByRole('button', { name: 'Next page' }).click();
    await rowsShown(page, 1, tag);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await rowsShown(page, 20, tag);
    expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);

    await page.getByRole('combobox', { name: 'Status' }).selectOption('disabled');
    await page.getByRole('button', { name: 'Search' }).click();
    await rowsShown(page, 1, `${tag}7@example.com`);
    expect(await page.getByRole('cell', { name: 'disabled', exact: true }).count()).toBe(1);
    await expectAllControlsNamed(page);

    const invited = uniqueEmail('invited');
    await page.getByLabel('Email', { exact: true }).fill(invited);
    await page.getByLabel('Nickname', { exact: true }).fill('invitee');
    await page.getByRole('checkbox', { name: 'moderator' }).check();
    await page.getByRole('button', { name: 'Invite' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Invited ${invited}.` })
      .waitFor();
    const rows: Array<{ id: string; nickname: string; status: string }> = await t.db.query(
      'SELECT id, nickname, status FROM user_mapping WHERE email = $1',
      [invited],
    );
    expect(rows).toEqual([{ id: expect.any(String), nickname: 'invitee', status: 'active' }]);
    expect((await t.api.as(admin).admin.users.found(rows[0].id)).groups).toEqual(['moderator']);
    // The same address again: the API's detail is shown.
    await page.getByLabel('Email', { exact: true }).fill(invited);
    await page.getByLabel('Nickname', { exact: true }).fill('invitee');
    await page.getByRole('button', { name: 'Invite' }).click();
    const again = await t.api.as(admin).admin.users.invite({ email: invited, nickname: 'x' });
    expect(again.status).toBe(409);
    await page
      .getByRole('alert')
      .filter({ hasText: again.body.detail as string })
      .waitFor();

    // The README's picture: the first page of everyone.
    await page.getByRole('searchbox', { name: 'Search by email or nickname' }).fill('');
    await page.getByRole('combobox', { name: 'Status' }).selectOption('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: 'Next page' }).and(page.locator(':enabled')).waitFor();
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });

  /** Signed in, on the detail page of `user`, reached by searching for it. */
  async function openUser(page: Page, user: { email: string }): Promise<void> {
    await signIn(page, admin);
    await page.getByRole('searchbox', { name: 'Search by email or nickname' }).fill(user.email);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: user.email }).click();
    await page.getByRole('heading', { name: user.email }).waitFor();
  }

  it('user detail: groups added and removed, disable and enable, delete after typing the email', async () => {
    const target = await t.given.user({ nickname: 'target' });
    const page = await newPage();
    await openUser(page, target);
    await expectAllControlsNamed(page);

    await page.getByRole('combobox', { name: 'Group to add' }).selectOption('moderator');
    await page.getByRole('button', { name: 'Add to group' }).click();
    await page.getByRole('button', { name: 'Remove from group moderator' }).waitFor();
    expect((await t.api.as(admin).admin.users.found(target.id)).groups).toEqual(['moderator']);
    await page.getByRole('button', { name: 'Remove from group moderator' }).click();
    await page.getByText('In no group.').waitFor();
    expect((await t.api.as(admin).admin.users.found(target.id)).groups).toEqual([]);

    await page.getByRole('button', { name: 'Disable user' }).click();
    await page.getByRole('button', { name: 'Enable user' }).waitFor();
    expect(await t.api.as(admin).admin.users.found(target.id)).toMatchObject({ status: 'disabled', enabled: false });
    await page.getByRole('button', { name: 'Enable user' }).click();
    await page.getByRole('button', { name: 'Disable user' }).waitFor();
    expect(await t.api.as(admin).admin.users.found(target.id)).toMatchObject({ status: 'active', enabled: true });

    const remove = page.getByRole('button', { name: 'Delete user' });
    const confirm = page.getByLabel(`Type ${target.email} to confirm`);
    await confirm.fill('someone.else@example.com');
    expect(await remove.isDisabled()).toBe(true);
    await confirm.fill(target.email);
    await remove.click();
    await page.getByRole('heading', { name: 'User deleted' }).waitFor();
    expect(await t.db.query('SELECT status FROM user_mapping WHERE id = $1', [target.id])).toEqual([{ status: 'withdrawn' }]);
  });

  // Needs GET/DELETE /v1/admin/users/:id/sessions (the sessions work): fails until it is merged.
  it('user detail: ends one of the user’s sessions (needs the admin sessions routes)', async () => {
    const target = await t.given.user({ nickname: 'sessions' });
    const page = await newPage();
    await openUser(page, target);
    const end = page.getByRole('button', { name: /^End session signed in / });
    await end.first().waitFor();
    expect(await end.count()).toBe(1);
    await end.click();
    await page.getByRole('status').filter({ hasText: 'Session ended.' }).waitFor();
    await page.getByText('No open sessions.').waitFor();
    const sessions = await t.api.as(admin).admin.users.sessions(target.id);
    expectStatus(sessions, 200);
    expect(sessions.body.items).toEqual([]);
    // The ended session's token is refused.
    const me = await t.api.as(target).users.me();
    expect({ status: me.status, code: me.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
  });

  it('groups: create, members, delete (never admin), and a failure shows its detail', async () => {
    const name = `team${Date.now().toString(36)}`;
    const page = await newPage();
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('heading', { name: 'Groups' }).waitFor();

    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Description').fill('Console test group');
    await page.getByLabel('Precedence').fill('7');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Created the group ${name}.` })
      .waitFor();
    const groups = await t.api.as(admin).admin.groups.list();
    expect(groups.body).toContainEqual({ name, description: 'Console test group', precedence: 7 });

    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Create group' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: `The group ${name} already exists` })
      .waitFor();

    await page.getByRole('button', { name: 'Members of admin' }).click();
    await page.getByRole('list', { name: 'Members of admin' }).getByRole('link', { name: admin.email }).waitFor();
    expect(await page.getByRole('button', { name: 'Delete group admin' }).count()).toBe(0);
    await expectAllControlsNamed(page);

    await page.getByRole('button', { name: `Delete group ${name}` }).click();
    await page.getByRole('button', { name: `Confirm deleting ${name}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Deleted the group ${name}.` })
      .waitFor();
    const after = await t.api.as(admin).admin.groups.list();
    expect((after.body as Array<{ name: string }>).map((g) => g.name)).not.toContain(name);
  });

  it('audit log: filters by action, actor, target and time range; exports every matching entry as CSV and JSON Lines', async () => {
    // More entries than one page holds, by an actor of their own, and two entries about one target.
    const actor = await t.given.user({ groups: ['admin'] });
    const target = await t.given.user();
    const tag = `audit${Date.now().toString(36)}`;
    for (let i = 0; i < 23; i += 1) {
      expectStatus(await t.api.as(actor).admin.groups.create({ name: `${tag}${i}` }), 201);
    }
    expectStatus(await t.api.as(admin).admin.users.disable(target.id), 204);
    expectStatus(await t.api.as(admin).admin.users.enable(target.id), 204);
    const listed = await t.api.as(admin).admin.auditLog({ action: 'group.create', actorId: actor.id, limit: 100 });
    expectStatus(listed, 200);
    const ids = (listed.body.items as Array<{ id: string }>).map((entry) => entry.id);
    expect(ids).toHaveLength(23);

    const page = await newPage();
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await expectAllControlsNamed(page);

    await page.getByLabel('Action').fill('group.create');
    await page.getByLabel('Actor id').fill(actor.id);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await rowsShown(page, 20, 'group.create');
    await page.getByRole('button', { name: 'Next page' }).click();
    await rowsShown(page, 3, actor.id);

    // The exports hold every matching entry, not one page, fetched with the token (not in a URL).
    const csvDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await csvDownload;
    expect(csv.suggestedFilename()).toBe('audit-log.csv');
    expect(csv.url()).toMatch(/^blob:/);
    const csvLines = readFileSync(await csv.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(csvLines[0]).toBe('id,createdAt,action,actorId,targetUserId,details');
    expect(
      csvLines
        .slice(1)
        .map((line) => line.split(',')[0])
        .sort(),
    ).toEqual([...ids].sort());
    await page.getByRole('status').filter({ hasText: 'Exported audit-log.csv' }).waitFor();

    const jsonlDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export JSON Lines' }).click();
    const jsonl = await jsonlDownload;
    expect(jsonl.suggestedFilename()).toBe('audit-log.jsonl');
    const entries = readFileSync(await jsonl.path(), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; action: string; actorId: string });
    expect(entries.map((e) => e.id)).toEqual(ids);
    expect(new Set(entries.map((e) => `${e.action} ${e.actorId}`))).toEqual(new Set([`group.create ${actor.id}`]));

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Target user id').fill(target.id);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await rowsShown(page, 2, target.id);
    expect(await page.getByRole('cell', { name: 'user.disable', exact: true }).count()).toBe(1);
    expect(await page.getByRole('cell', { name: 'user.enable', exact: true }).count()).toBe(1);

    // A time range with nothing in it, then one the API refuses: its detail is shown.
    await page.getByLabel('From').fill('2099-01-01T00:00:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No entries match.').waitFor();
    await page.getByLabel('To (exclusive)').fill('2098-01-01T00:00:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const [from, to] = await page.evaluate(() => [
      new Date('2099-01-01T00:00:00').toISOString(),
      new Date('2098-01-01T00:00:00').toISOString(),
    ]);
    const refused = await t.api.as(admin).admin.auditLog({ targetUserId: target.id, from, to });
    expect(refused.status).toBe(400);
    await page
      .getByRole('alert')
      .filter({ hasText: refused.body.detail as string })
      .waitFor();
  });

  it('refreshes the access token through the API before it expires', async () => {
    const page = await newPage();
    await page.clock.install();
    const firstCall = page.waitForRequest((r) => r.url().includes('/v1/admin/users'));
    await signIn(page, admin);
    const first = await firstCall;
    const before = await first.headerValue('authorization');
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/v1/auth/refresh'));
    await page.clock.fastForward('59:30'); // cognito-local's tokens live an hour
    expect((await refreshed).status()).toBe(200);
    const next = page.waitForRequest((r) => r.url().endsWith('/v1/admin/groups'));
    await page.getByRole('link', { name: 'Groups' }).click();
    const after = await (await next).headerValue('authorization');
    expect(after).toMatch(/^Bearer /);
    expect(after).not.toBe(before);
    await page.getByRole('cell', { name: 'admin', exact: true }).waitFor();
  });

  describe('with the Hosted UI', () => {
    let hosted: TestApp;

    beforeAll(async () => {
      const port = await freePort();
      const callback = `http://127.0.0.1:${port}/admin/callback`;
      hosted = await startTestApp({
        port,
        callbackUrls: [callback],
        env: { COGNITO_DOMAIN: process.env.TEST_COGNITO_ENDPOINT ?? '', OAUTH_REDIRECT_URIS: callback },
      });
    });

    afterAll(async () => {
      await hosted?.close();
    });

    it('signs in through the Hosted UI with code + PKCE and lands on the console', async () => {
      const email = uniqueEmail('hosted-admin');
      await hosted.given.cognitoUser({ email, nickname: 'hosted', groups: ['admin'] });
      const domain = new URL(hosted.cognitoEndpoint).origin;
      const page = await newPage(hosted, domain);
      await page.goto(`${hosted.baseUrl}/admin/`);
      await expectAllControlsNamed(page);
      expect(await page.getByLabel('Password').count()).toBe(0);
      const exchange = page.waitForResponse((r) => r.url().endsWith('/v1/auth/oauth/token'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((url) => url.origin === domain);
      await page.fill('input[name="username"]', email);
      await page.fill('input[name="password"]', PASSWORD);
      await page.click('button[type="submit"]');
      expect((await exchange).status()).toBe(200);
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/admin/');
      expect(new URL(page.url()).search).toBe('');
      expect(await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }))).toEqual({ local: 0, session: 0 });
      // The exchange created the caller's row: the console lists it.
      await page.getByRole('link', { name: email }).waitFor();
      expect(await hosted.db.query('SELECT nickname FROM user_mapping WHERE email = $1', [email])).toEqual([{ nickname: 'hosted' }]);
    });
  });
});
