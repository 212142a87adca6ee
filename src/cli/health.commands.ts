// payctl health [--detailed] (runbooks 000 and 003's "immediate health check"): every dependency check
// (database, Redis, providers, circuits, job runner, flags), from GET /health/detailed over --url or run
// in process against the configured database and providers. Exits 1 when the service is unhealthy (a
// critical check down), as /health/detailed answers 503 then; degraded is printed but exits 0.
import type { Command } from 'commander';
import { type CheckResult, HealthService } from '../observability/health.js';
import { type Globals, inProcess } from './context.js';
import { printJson, printTable } from './output.js';
import { RemoteClient, RemoteError } from './remote.js';

type Check = CheckResult & { critical: boolean };

interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  timestamp: string;
  version?: string;
  uptime_seconds?: number;
  checks: Record<string, Check>;
  process?: Record<string, unknown>;
}

/** Health endpoints need no token; one is sent when given, as any other payctl call does. */
async function remoteHealth(g: Globals & { url: string }): Promise<HealthReport> {
  try {
    return await new RemoteClient(g.url, g.token).request<HealthReport>('GET', '/health/detailed');
  } catch (error) {
    // 503 is the answer "unhealthy", with the same body: report it rather than fail on it.
    const body = error instanceof RemoteError ? (error.body as Partial<HealthReport>) : undefined;
    if (error instanceof RemoteError && error.status === 503 && body?.checks) return body as HealthReport;
    throw error;
  }
}

async function localHealth(g: Globals): Promise<HealthReport> {
  return inProcess(g.config, async ({ health, clock }) => {
    const checks = await health.runAll();
    return { status: HealthService.overall(checks), timestamp: clock.now().toISOString(), checks };
  });
}

function printReport(g: Globals, report: HealthReport, detailed: boolean): void {
  if (g.json) {
    if (detailed) printJson(report);
    else {
      const checks = Object.fromEntries(
        Object.entries(report.checks).map(([name, c]) => [name, { status: c.status, state: c.state }]),
      );
      printJson({ status: report.status, timestamp: report.timestamp, checks });
    }
    return;
  }
  const where = g.url ? g.url : 'in process';
  const about = [
    report.version ? `version ${report.version}` : undefined,
    report.uptime_seconds !== undefined ? `up ${report.uptime_seconds} s` : undefined,
  ].filter(Boolean);
  console.log(`status: ${report.status} (${[where, ...about].join(', ')})`);
  const rows = Object.entries(report.checks).map(([name, check]) => ({ check: name, ...check }));
  printTable(
    rows,
    detailed
      ? ['check', 'status', 'state', 'critical', 'latency_ms', 'error', 'detail']
      : ['check', 'status', 'state'],
  );
  if (detailed && report.process) {
    console.log(
      Object.entries(report.process)
        .map(([key, value]) => `${key}=${value}`)
        .join(' '),
    );
  }
}

export function registerHealthCommands(program: Command, globals: () => Globals): void {
  program
    .command('health')
    .description(
      'Health of the service and its dependencies (database, Redis, providers, circuits, jobs); exits 1 when unhealthy',
    )
    .option('--detailed', 'every check with criticality, latency, error and detail, and the process figures')
    .action(async (options: { detailed?: boolean }) => {
      const g = globals();
      const report = g.url ? await remoteHealth({ ...g, url: g.url }) : await localHealth(g);
      printReport(g, report, options.detailed === true);
      if (report.status === 'unhealthy') {
        const down = Object.entries(report.checks)
          .filter(([, check]) => check.critical && check.status === 'down')
          .map(([name, check]) => `${name}: ${check.error ?? check.state}`);
        throw new Error(`the service is unhealthy (${down.join('; ') || 'a critical check is down'})`);
      }
    });
}
