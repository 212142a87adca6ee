// Login with the operator's email and password, then the authenticator code when the account has a
// second factor (the service answers 401 `totp_required`; both are sent again with the code).
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api';

export function LoginPage({ onLoggedIn }: { onLoggedIn(): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const codeRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (needsCode) codeRef.current?.focus();
  }, [needsCode]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/login', { email, password, ...(needsCode ? { totp: totp.trim() } : {}) });
      onLoggedIn();
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'totp_required') setNeedsCode(true);
      else setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <h1>Payments dashboard</h1>
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <label>
          Email
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            readOnly={needsCode}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            readOnly={needsCode}
          />
        </label>
        {needsCode ? (
          <label>
            Authenticator code
            <input
              ref={codeRef}
              name="totp"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6,8}"
              required
              value={totp}
              onChange={(e) => setTotp(e.target.value)}
            />
            <span className="hint">Enter the 6-digit code from your authenticator app.</span>
          </label>
        ) : null}
        {error ? (
          <p id="login-error" className="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {needsCode ? 'Verify and log in' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
