/** The console's shell: settings, sign-in state, the navigation and the page for the URL's hash. */
import { useEffect, useState } from 'preact/hooks';
import { messageOf, onSessionRefused } from './api';
import { CALLBACK_PATH, ConsoleSettings, finishHostedUi, forget, onRefreshFailed, Signed, signOut } from './auth';
import { AuditLog } from './pages/audit-log';
import { Groups } from './pages/groups';
import { SignIn } from './pages/sign-in';
import { UserDetail } from './pages/user-detail';
import { Users } from './pages/users';
import { Failure } from './ui';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = (): void => setHash(location.hash);
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return hash;
}

function Page({ hash }: { hash: string }) {
  const user = /^#\/users\/([0-9a-f-]{36})$/.exec(hash);
  if (user !== null) {
    return <UserDetail id={user[1]} />;
  }
  if (hash === '#/groups') {
    return <Groups />;
  }
  if (hash === '#/audit') {
    return <AuditLog />;
  }
  return <Users />;
}

const PAGES = [
  ['#/users', 'Users'],
  ['#/groups', 'Groups'],
  ['#/audit', 'Audit log'],
] as const;

export function App() {
  const [settings, setSettings] = useState<ConsoleSettings | null>(null);
  const [signed, setSigned] = useState<Signed | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const hash = useHash();

  useEffect(() => {
    const back = (text: string): void => {
      forget();
      setSigned(null);
      setMessage(text);
    };
    onSessionRefused((detail) => back(`Signed out: ${detail}`));
    onRefreshFailed(back);
    fetch('/admin/config.json')
      .then((res) => res.json() as Promise<ConsoleSettings>)
      .then(async (loaded) => {
        if (location.pathname === CALLBACK_PATH) {
          try {
            setSigned(await finishHostedUi(loaded));
          } catch (error) {
            setMessage(messageOf(error));
          }
        }
        setSettings(loaded);
      })
      .catch((error: unknown) => setMessage(`The console's settings could not be loaded: ${messageOf(error)}`));
  }, []);

  if (settings === null) {
    return message === null ? <p aria-busy="true">Loading…</p> : <Failure message={message} />;
  }
  if (signed === null) {
    return (
      <SignIn
        key={message ?? ''}
        settings={settings}
        message={message}
        onSignedIn={(who) => {
          setMessage(null);
          setSigned(who);
        }}
      />
    );
  }
  const current = hash.startsWith('#/users/') ? '#/users' : (PAGES.find(([href]) => href === hash)?.[0] ?? '#/users');
  return (
    <>
      <header class="container">
        <nav aria-label="Main">
          <ul>
            <li>
              <strong>Admin console</strong>
            </li>
          </ul>
          <ul>
            {PAGES.map(([href, label]) => (
              <li key={href}>
                <a href={href} aria-current={current === href ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
            <li>
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  void signOut().then(() => {
                    setMessage('Signed out.');
                    setSigned(null);
                  });
                }}
              >
                Sign out {signed.email}
              </button>
            </li>
          </ul>
        </nav>
      </header>
      <main class="container">
        <Page hash={hash} />
      </main>
    </>
  );
}
