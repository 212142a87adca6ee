// An admin without an authenticator (a fresh install's first login, or after an MFA reset) may do
// nothing else until one is enrolled: the service gives a new secret as an otpauth:// URI, the operator
// adds it to an authenticator app and confirms with the first code.
import { type FormEvent, useState } from 'react';
import { api } from '../api';
import { ErrorMessage } from '../components/feedback';

export function MfaEnrolmentPage(props: { onEnrolled(): void; logout(): void }) {
  const [uri, setUri] = useState<string>();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function start() {
    setBusy(true);
    setError(undefined);
    try {
      setUri((await api.post<{ otpauth_uri: string }>('/mfa/totp')).otpauth_uri);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }
  async function confirm(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/mfa/totp/confirm', { code: code.trim() });
      props.onEnrolled();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }
  const secret = uri ? new URL(uri).searchParams.get('secret') : undefined;
  return (
    <main className="login">
      <h1>Set up your authenticator</h1>
      <p>Your role requires a second factor before anything else.</p>
      {uri ? (
        <form onSubmit={confirm}>
          <p>Add this key to your authenticator app (it is shown once):</p>
          <code className="secret" data-testid="totp-secret">
            {secret}
          </code>
          <details>
            <summary>otpauth URI</summary>
            <code className="secret">{uri}</code>
          </details>
          <label>
            First code from the app
            <input
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </label>
          <button type="submit" className="primary" disabled={busy}>
            Confirm
          </button>
        </form>
      ) : (
        <button type="button" className="primary" onClick={start} disabled={busy}>
          Create a key
        </button>
      )}
      <ErrorMessage error={error} />
      <p>
        <button type="button" className="link" onClick={props.logout}>
          Log out
        </button>
      </p>
    </main>
  );
}
