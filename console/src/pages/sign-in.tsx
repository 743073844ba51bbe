/** Sign-in: the Hosted UI when the service offers it for this console, else email, password and TOTP. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api';
import { answerChallenge, Challenge, consoleRedirectUri, ConsoleSettings, passwordSignIn, Signed, startHostedUi } from '../auth';
import { Failure } from '../ui';

interface Props {
  settings: ConsoleSettings;
  message: string | null;
  onSignedIn: (signed: Signed) => void;
}

export function SignIn({ settings, message, onSignedIn }: Props) {
  const [failure, setFailure] = useState<string | null>(message);
  const [busy, setBusy] = useState(false);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [challenge, setChallenge] = useState<Challenge | null>(null);
  const codeField = useRef<HTMLInputElement>(null);
  // The code step takes the focus, so a keyboard user types the code straight away.
  useEffect(() => {
    if (challenge !== null) {
      codeField.current?.focus();
    }
  }, [challenge]);

  const attempt = async (step: () => Promise<Signed | Challenge>): Promise<void> => {
    setBusy(true);
    setFailure(null);
    try {
      const answer = await step();
      if ('session' in answer) {
        if (answer.name !== 'SOFTWARE_TOKEN_MFA') {
          setChallenge(null);
          setFailure(`This account needs a step the console does not offer (${answer.name}): finish it in another client first.`);
        } else {
          setChallenge(answer);
          setCode('');
        }
      } else {
        onSignedIn(answer);
      }
    } catch (error) {
      setFailure(messageOf(error));
    } finally {
      setBusy(false);
    }
  };

  if (consoleRedirectUri(settings) !== null) {
    return (
      <main class="container narrow">
        <h1>Admin console</h1>
        <Failure message={failure} />
        <p>Sign in with your organisation&apos;s login page.</p>
        <button type="button" disabled={busy} onClick={() => void startHostedUi(settings).catch((e: unknown) => setFailure(messageOf(e)))}>
          Sign in
        </button>
      </main>
    );
  }

  return (
    <main class="container narrow">
      <h1>Admin console</h1>
      <Failure message={failure} />
      {challenge === null ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void attempt(() => passwordSignIn(email.trim(), password));
          }}
        >
          <label>
            Email
            <input
              type="email"
              name="email"
              autocomplete="username"
              required
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
            />
          </label>
          <label>
            Password
            <input
              type="password"
              name="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </label>
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void attempt(() => answerChallenge(email.trim(), challenge, code.trim()));
          }}
        >
          <p>Enter the 6-digit code from your authenticator app.</p>
          <label>
            Authentication code
            <input
              name="code"
              inputMode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9]{6}"
              required
              ref={codeField}
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
          </label>
          <button type="submit" disabled={busy}>
            Verify
          </button>
          <button type="button" class="secondary" onClick={() => setChallenge(null)}>
            Start over
          </button>
        </form>
      )}
    </main>
  );
}
