// Loading, error and result messages, announced to screen readers through live regions.
import type { ReactNode } from 'react';
import { ApiError } from '../api';

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError && error.code ? ` (${error.code})` : '';
  return (
    <p className="error" role="alert">
      {message}
      {code}
    </p>
  );
}

/** What an action just did (a status line) or why it failed (an alert), under its form or button. */
export function ActionOutcome({ done, error }: { done: string | undefined | null; error: unknown }) {
  return (
    <>
      {done ? (
        <span className="ok" role="status">
          {done}
        </span>
      ) : null}
      <ErrorMessage error={error} />
    </>
  );
}

export function Loading({ loading }: { loading: boolean }) {
  return loading ? (
    <p className="muted" aria-live="polite">
      Loading…
    </p>
  ) : null;
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}
