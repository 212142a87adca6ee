// `payctl start` serves the operator dashboard from dist/dashboard/. `npm run build` (and so `npm install`,
// through prepare) builds it; when it is missing, for example after `npm ci --ignore-scripts` or a
// `tsc`-only build, start builds it once with Vite, or says plainly why it cannot (the service starts
// anyway, and /dashboard answers 503 with the same reason).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dashboardDir, projectRoot } from '../http/dashboard.js';

export function ensureDashboardBuilt(log: (line: string) => void, root = projectRoot()): boolean {
  if (existsSync(path.join(dashboardDir(root), 'index.html'))) return true;
  const config = path.join(root, 'dashboard', 'vite.config.ts');
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(config)) {
    log(
      `payctl: the dashboard is not built and its sources (${config}) are not here; /dashboard answers 503`,
    );
    return false;
  }
  if (!existsSync(vite)) {
    log(
      'payctl: the dashboard is not built and Vite is not installed (a production install omits dev packages): run `npm install` then `npm run build`; /dashboard answers 503',
    );
    return false;
  }
  log('payctl: building the dashboard into dist/dashboard (first start)...');
  try {
    execFileSync(process.execPath, [vite, 'build', '--config', config, '--logLevel', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return true;
  } catch (error) {
    log(`payctl: the dashboard build failed (${(error as Error).message}); /dashboard answers 503`);
    return false;
  }
}
