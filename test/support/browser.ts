import { existsSync } from 'node:fs';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

/** Debian's chromium: what CI installs (apt-get install chromium). */
export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}

export interface GuardedPage {
  context: BrowserContext;
  page: Page;
  /** Everything that must not happen: CSP violations, script errors, requests to another origin. */
  problems: string[];
}

/**
 * A fresh browser context whose page records every CSP violation, console error, uncaught error
 * and request to an origin other than `origin` (except navigations to `navigableOrigin`, and
 * whatever the page at that origin loads itself: the Hosted UI's own login page).
 */
export async function guardedPage(browser: Browser, origin: string, navigableOrigin?: string): Promise<GuardedPage> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  // Well inside Jest's test timeout, so a stuck step fails with its own message.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  // Runs in the page (before its own scripts): every violation becomes a console error.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + event.blockedURI);
    });`,
  });
  page.on('console', (message) => {
    // An API answer of 4xx is an expected result the page shows; Chromium logs it as an error.
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.origin === origin) {
      return;
    }
    const fromNavigable = navigableOrigin !== undefined && request.frame().url().startsWith(navigableOrigin);
    if (url.origin === navigableOrigin && (request.isNavigationRequest() || fromNavigable)) {
      return;
    }
    if (fromNavigable) {
      return;
    }
    problems.push(`request to another origin: ${request.method()} ${request.url()}`);
  });
  return { context, page, problems };
}

/** Roles a person operates; each needs an accessible name. */
const CONTROL_ROLES = new Set([
  'button',
  'link',
  'textbox',
  'searchbox',
  'combobox',
  'listbox',
  'checkbox',
  'radio',
  'spinbutton',
  'slider',
  'switch',
  'menuitem',
  'tab',
]);

/** The controls on the page without an accessible name, as the browser computes names. */
export async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    return nodes
      .filter((node) => node.ignored !== true && CONTROL_ROLES.has(String(node.role?.value)))
      .filter((node) => String(node.name?.value ?? '').trim() === '')
      .map((node) => `${String(node.role?.value)} (backend node ${node.backendDOMNodeId ?? '?'})`);
  } finally {
    await cdp.detach();
  }
}
