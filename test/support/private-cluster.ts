// A private PostgreSQL cluster for tests that stop, restart or kill the database (DESIGN section 3):
// initdb into a temporary folder, started on its own port as the postgres user, never the shared one.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

function asPostgres(command: string, args: string[], timeoutMs = 60_000): string {
  // initdb and postgres refuse to run as root; runuser is there when the tests run as root.
  const isRoot = process.getuid?.() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return execFileSync(file as string, argv as string[], {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: 'pipe',
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface PrivateCluster {
  port: number;
  /** Connection URL for the `postgres` database of this cluster. */
  url: string;
  start(): void;
  stop(mode?: 'fast' | 'immediate'): void;
  restart(): void;
  destroy(): void;
}

export async function createPrivateCluster(): Promise<PrivateCluster> {
  const root = mkdtempSync(path.join(tmpdir(), 'pgcluster-'));
  chmodSync(root, 0o777);
  const dataDir = path.join(root, 'data');
  const logFile = path.join(root, 'server.log');
  const port = await freePort();
  asPostgres(`${BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const cluster: PrivateCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start() {
      asPostgres(`${BIN}/pg_ctl`, ['-D', dataDir, '-l', logFile, '-o', options, '-w', 'start']);
    },
    stop(mode = 'fast') {
      asPostgres(`${BIN}/pg_ctl`, ['-D', dataDir, '-m', mode, '-w', 'stop']);
    },
    restart() {
      cluster.stop('immediate');
      cluster.start();
    },
    destroy() {
      try {
        cluster.stop('immediate');
      } catch {
        // Already stopped.
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}
