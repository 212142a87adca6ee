// The frame around every screen: a skip link, the navigation (only the screens the role may read), the
// test/live mode switch, who is logged in, and log out.
import { NavLink, Outlet } from 'react-router';
import { useSession } from './session';

const SCREENS: { to: string; label: string; permission: string }[] = [
  { to: '/', label: 'Overview', permission: 'payment:read' },
  { to: '/payments', label: 'Payments', permission: 'payment:read' },
  { to: '/webhooks', label: 'Webhooks', permission: 'payment:read' },
  { to: '/providers', label: 'Providers', permission: 'payment:read' },
  { to: '/flags', label: 'Flags', permission: 'payment:read' },
  { to: '/reconciliation', label: 'Reconciliation', permission: 'payment:read' },
  { to: '/disputes', label: 'Disputes', permission: 'payment:read' },
  { to: '/audit', label: 'Audit log', permission: 'audit:read' },
  { to: '/keys', label: 'API keys', permission: 'payment:configure' },
];

export function Layout() {
  const { me, livemode, setLivemode, can, logout } = useSession();
  return (
    <div className={livemode ? 'shell live' : 'shell'}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Payments</span>
        <label className="mode">
          <input
            type="checkbox"
            role="switch"
            aria-checked={livemode}
            checked={livemode}
            onChange={(event) => setLivemode(event.target.checked)}
          />
          <span>{livemode ? 'Live mode' : 'Test mode'}</span>
        </label>
        <span className="who">
          {me.email} <span className="role">{me.role}</span>
        </span>
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <nav aria-label="Main">
        <ul>
          {SCREENS.filter((screen) => can(screen.permission)).map((screen) => (
            <li key={screen.to}>
              <NavLink to={screen.to} end={screen.to === '/'}>
                {screen.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {livemode ? (
          <p className="mode-banner" role="note">
            Live mode: these are real payments.
          </p>
        ) : null}
        <Outlet />
      </main>
    </div>
  );
}
