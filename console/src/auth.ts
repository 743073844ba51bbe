/**
 * Signing in and staying signed in. Tokens live in this module's memory only: a reload asks to
 * sign in again. The access token is refreshed a minute before it expires.
 */
import { currentAccessToken, publicPost, setAccessToken, TokenSet } from './api';

export interface ConsoleSettings {
  hostedUi: { domain: string; clientId: string; redirectUris: string[] } | null;
}

export interface Signed {
  email: string;
  groups: string[];
}

export interface Challenge {
  name: string;
  session: string;
  expiresIn: number;
}

type LoginAnswer = TokenSet | { challenge: Challenge };

const ADMIN_GROUP = 'admin';
export const CALLBACK_PATH = '/admin/callback';
/** Only the PKCE verifier and state cross the Hosted UI redirect, and only until the callback. */
const PKCE_KEY = 'admin-console.pkce';

let refreshToken: string | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let onExpired: (message: string) => void = () => undefined;

export function onRefreshFailed(handler: (message: string) => void): void {
  onExpired = handler;
}

function claims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(json) as Record<string, unknown>;
}

export class NotAdmin extends Error {}

/** Keeps the tokens (memory only) if they are an admin's; refuses them otherwise. */
function adopt(tokens: TokenSet, emailHint: string): Signed {
  const values = claims(tokens.accessToken);
  const groups = Array.isArray(values['cognito:groups']) ? (values['cognito:groups'] as string[]) : [];
  if (!groups.includes(ADMIN_GROUP)) {
    void publicPostLogout(tokens);
    throw new NotAdmin('This account is not in the admin group: the console is for admins only.');
  }
  setAccessToken(tokens.accessToken);
  refreshToken = tokens.refreshToken ?? refreshToken;
  scheduleRefresh(tokens.expiresIn);
  return { email: typeof values.username === 'string' && emailHint === '' ? values.username : emailHint, groups };
}

/** Ends the refused session at the API too (best effort: the tokens are dropped either way). */
async function publicPostLogout(tokens: TokenSet): Promise<void> {
  if (tokens.refreshToken === undefined) {
    return;
  }
  await fetch('/v1/auth/logout', {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokens.accessToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ refreshToken: tokens.refreshToken }),
  }).catch(() => undefined);
}

function scheduleRefresh(expiresIn: number): void {
  clearTimeout(refreshTimer);
  const delay = Math.max(5, expiresIn - 60) * 1000;
  refreshTimer = setTimeout(() => void refresh(), delay);
}

async function refresh(): Promise<void> {
  if (refreshToken === undefined) {
    forget();
    onExpired('Your session has expired. Please sign in again.');
    return;
  }
  try {
    const tokens = await publicPost<TokenSet>('/v1/auth/refresh', { refreshToken });
    adopt(tokens, '');
  } catch (error) {
    forget();
    onExpired(`Your session could not be renewed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function forget(): void {
  clearTimeout(refreshTimer);
  setAccessToken(null);
  refreshToken = undefined;
}

export async function signOut(): Promise<void> {
  const accessToken = currentAccessToken();
  if (accessToken !== null && refreshToken !== undefined) {
    await publicPostLogout({ accessToken, refreshToken, expiresIn: 0 });
  }
  forget();
}

/** Email and password; answers either the signed-in admin or the challenge to answer next. */
export async function passwordSignIn(email: string, password: string): Promise<Signed | Challenge> {
  const answer = await publicPost<LoginAnswer>('/v1/auth/login', { email, password });
  return 'challenge' in answer ? answer.challenge : adopt(answer, email);
}

export async function answerChallenge(email: string, challenge: Challenge, code: string): Promise<Signed | Challenge> {
  const answer = await publicPost<LoginAnswer>('/v1/auth/challenge', { email, name: challenge.name, session: challenge.session, code });
  return 'challenge' in answer ? answer.challenge : adopt(answer, email);
}

export function consoleRedirectUri(settings: ConsoleSettings): string | null {
  const uri = `${location.origin}${CALLBACK_PATH}`;
  return settings.hostedUi?.redirectUris.includes(uri) === true ? uri : null;
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) {
    text += String.fromCharCode(byte);
  }
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Sends the browser to the Hosted UI with PKCE (S256). */
export async function startHostedUi(settings: ConsoleSettings): Promise<void> {
  const redirectUri = consoleRedirectUri(settings);
  if (settings.hostedUi === null || redirectUri === null) {
    throw new Error('The Hosted UI is not configured for this console.');
  }
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const authorize = new URL(`${settings.hostedUi.domain}/oauth2/authorize`);
  authorize.search = new URLSearchParams({
    client_id: settings.hostedUi.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  }).toString();
  location.assign(authorize.toString());
}

/** Back from the Hosted UI at /admin/callback: the code exchanged for tokens through the API. */
export async function finishHostedUi(settings: ConsoleSettings): Promise<Signed> {
  const params = new URLSearchParams(location.search);
  const stored = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, '', '/admin/');
  const error = params.get('error_description') ?? params.get('error');
  if (error !== null) {
    throw new Error(`The Hosted UI refused the sign-in: ${error}`);
  }
  const pkce = stored === null ? null : (JSON.parse(stored) as { verifier: string; state: string });
  const code = params.get('code');
  if (pkce === null || code === null || params.get('state') !== pkce.state) {
    throw new Error('This sign-in did not start here or has already been used. Please sign in again.');
  }
  const redirectUri = consoleRedirectUri(settings) ?? `${location.origin}${CALLBACK_PATH}`;
  const tokens = await publicPost<TokenSet>('/v1/auth/oauth/token', { code, codeVerifier: pkce.verifier, redirectUri });
  const values = claims(tokens.accessToken);
  return adopt(tokens, typeof values.username === 'string' ? values.username : '');
}
