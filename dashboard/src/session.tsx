// Who is logged in (GET /admin/me), what they may do, and the test/live mode every screen filters by.
// Buttons a role lacks the permission for are not drawn; the API refuses them anyway.
import { createContext, type ReactNode, useContext, useState } from 'react';
import type { Me } from './api';

interface Session {
  me: Me;
  livemode: boolean;
  setLivemode(livemode: boolean): void;
  can(permission: string): boolean;
  logout(): Promise<void>;
}

const SessionContext = createContext<Session | undefined>(undefined);

const MODE_KEY = 'dashboard.livemode';

export function SessionProvider(props: { me: Me; logout(): Promise<void>; children: ReactNode }) {
  const [livemode, setMode] = useState(() => window.localStorage.getItem(MODE_KEY) === 'true');
  const value: Session = {
    me: props.me,
    livemode,
    setLivemode(next) {
      window.localStorage.setItem(MODE_KEY, String(next));
      setMode(next);
    },
    can: (permission) => props.me.permissions.includes(permission),
    logout: props.logout,
  };
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
