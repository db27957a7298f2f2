// The console's shell: who is logged in (recovered from the session cookie after a reload), the
// header with the tenant's sections, and which page the URL names.

import { useEffect, useState } from 'react';
import { ApiError, messageOf, request, setCsrfToken } from './api.js';
import { ErrorNote } from './components/ErrorNote.js';
import { DashboardPage } from './pages/DashboardPage.js';
import { DevicePage } from './pages/DevicePage.js';
import { DevicesPage } from './pages/DevicesPage.js';
import { FirmwarePage } from './pages/FirmwarePage.js';
import { RolloutPage } from './pages/RolloutPage.js';
import { RolloutsPage } from './pages/RolloutsPage.js';
import { LoginPage } from './pages/LoginPage.js';
import { SitePage } from './pages/SitePage.js';
import { SitesPage } from './pages/SitesPage.js';
import { GroupPage } from './pages/GroupPage.js';
import { GroupsPage } from './pages/GroupsPage.js';
import { ModelPage } from './pages/ModelPage.js';
import { ModelsPage } from './pages/ModelsPage.js';
import { TenantsPage } from './pages/TenantsPage.js';
import { TokensPage } from './pages/TokensPage.js';
import { UserPage } from './pages/UserPage.js';
import { UsersPage } from './pages/UsersPage.js';
import { Link, match, navigate, useLocation } from './router.js';
import type { User } from './types.js';

type Me = User & { csrfToken?: string };

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const { path } = useLocation();

  useEffect(() => {
    request<Me>('GET', '/api/v1/me')
      .then(({ data }) => {
        setCsrfToken(data.csrfToken ?? null);
        setUser({ username: data.username, role: data.role, tenant: data.tenant });
      })
      .catch((err: unknown) => {
        if (!(err instanceof ApiError && err.status === 401)) setError(messageOf(err));
        setUser(null);
      });
  }, []);

  const logout = async () => {
    try {
      await request('POST', '/api/v1/logout');
    } catch {
      /* the session may already be gone: the console forgets it either way */
    }
    setCsrfToken(null);
    setUser(null);
    navigate('/');
  };

  if (user === undefined) return <p className="loading">Loading…</p>;
  if (user === null) {
    return (
      <>
        <ErrorNote error={error} />
        <LoginPage onLoggedIn={(u) => setUser(u)} />
      </>
    );
  }

  const tenant = match('/t/:tenant', path.split('/').slice(0, 3).join('/'))?.tenant ?? null;
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          polyprov
        </Link>
        {tenant && (
          <nav aria-label="Sections">
            <span className="tenant">{tenant}</span>
            <Link to={`/t/${encodeURIComponent(tenant)}`}>Dashboard</Link>
            <Link to={`/t/${encodeURIComponent(tenant)}/sites`}>Sites</Link>
            <Link to={`/t/${encodeURIComponent(tenant)}/devices`}>Devices</Link>
            <Link to={`/t/${encodeURIComponent(tenant)}/groups`}>Groups</Link>
            <Link to={`/t/${encodeURIComponent(tenant)}/models`}>Models</Link>
            <Link to={`/t/${encodeURIComponent(tenant)}/firmware`}>Firmware</Link>
            <Link to={`/t/${encodeURIComponent(tenant)}/rollouts`}>Rollouts</Link>
          </nav>
        )}
        <nav aria-label="Account" className="account">
          {user.role === 'super-admin' && <Link to="/users">Users</Link>}
          <Link to="/me/tokens">My tokens</Link>
        </nav>
        <span className="who">
          {user.username} ({user.role})
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
        </span>
      </header>
      <main>{page(path, user)}</main>
    </>
  );
}

function page(path: string, user: User) {
  let m: Record<string, string> | null;
  if ((m = match('/t/:tenant/sites', path))) return <SitesPage tenant={m.tenant!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant/sites/:site', path))) return <SitePage key={path} tenant={m.tenant!} site={m.site!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant/devices', path))) return <DevicesPage tenant={m.tenant!} />;
  if ((m = match('/t/:tenant/devices/:mac', path))) return <DevicePage key={path} tenant={m.tenant!} mac={m.mac!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant', path))) return <DashboardPage tenant={m.tenant!} />;
  if ((m = match('/t/:tenant/groups', path))) return <GroupsPage tenant={m.tenant!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant/groups/:group', path))) return <GroupPage key={path} tenant={m.tenant!} group={m.group!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant/models', path))) return <ModelsPage tenant={m.tenant!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant/models/:model', path))) return <ModelPage key={path} tenant={m.tenant!} model={m.model!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant/firmware', path))) return <FirmwarePage tenant={m.tenant!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant/rollouts', path))) return <RolloutsPage tenant={m.tenant!} canWrite={user.role !== 'read-only'} />;
  if ((m = match('/t/:tenant/rollouts/:name', path))) return <RolloutPage key={path} tenant={m.tenant!} name={m.name!} canWrite={user.role !== 'read-only'} />;
  if (match('/users', path)) return <UsersPage />;
  if ((m = match('/users/:username', path))) return <UserPage key={path} username={m.username!} />;
  if (match('/me/tokens', path)) return <TokensPage />;
  return <TenantsPage user={user} />;
}
