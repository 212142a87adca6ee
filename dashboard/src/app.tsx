// The application shell: the session check (GET /admin/me), the login when there is none, and the
// screens' routes once logged in. Deep links survive a reload because the service answers every
// /dashboard/* path with index.html.
import { useCallback, useEffect, useState } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { ApiError, api, type Me, setUnauthenticatedHandler } from './api';
import { Layout } from './layout';
import { AuditPage } from './pages/audit';
import { DisputesPage } from './pages/disputes';
import { FlagsPage } from './pages/flags';
import { KeysPage } from './pages/keys';
import { LoginPage } from './pages/login';
import { MfaEnrolmentPage } from './pages/mfa-enrolment';
import { OverviewPage } from './pages/overview';
import { PaymentDetailPage } from './pages/payment-detail';
import { PaymentsPage } from './pages/payments';
import { ProvidersPage } from './pages/providers';
import { ReconciliationPage } from './pages/reconciliation';
import { WebhooksPage } from './pages/webhooks';
import { SessionProvider } from './session';

type State =
  | { kind: 'checking' }
  | { kind: 'anonymous' }
  | { kind: 'in'; me: Me }
  | { kind: 'failed'; error: Error };

export function App() {
  const [state, setState] = useState<State>({ kind: 'checking' });
  const check = useCallback(async () => {
    try {
      setState({ kind: 'in', me: await api.get<Me>('/me') });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setState({ kind: 'anonymous' });
      else setState({ kind: 'failed', error: error as Error });
    }
  }, []);
  useEffect(() => {
    setUnauthenticatedHandler(() => setState({ kind: 'anonymous' }));
    void check();
  }, [check]);
  const logout = useCallback(async () => {
    await api.post('/logout').catch(() => undefined);
    setState({ kind: 'anonymous' });
  }, []);

  if (state.kind === 'checking') return <p className="centered">Loading…</p>;
  if (state.kind === 'failed')
    return (
      <p className="centered error" role="alert">
        The service did not answer: {state.error.message}
      </p>
    );
  if (state.kind === 'anonymous') return <LoginPage onLoggedIn={check} />;
  if (state.me.mfa_enrolment_required) return <MfaEnrolmentPage onEnrolled={check} logout={logout} />;
  return (
    <BrowserRouter basename="/dashboard">
      <SessionProvider me={state.me} logout={logout}>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<OverviewPage />} />
            <Route path="payments" element={<PaymentsPage />} />
            <Route path="payments/:id" element={<PaymentDetailPage />} />
            <Route path="webhooks" element={<WebhooksPage />} />
            <Route path="providers" element={<ProvidersPage />} />
            <Route path="flags" element={<FlagsPage />} />
            <Route path="reconciliation" element={<ReconciliationPage />} />
            <Route path="disputes" element={<DisputesPage />} />
            <Route path="audit" element={<AuditPage />} />
            <Route path="keys" element={<KeysPage />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  );
}
