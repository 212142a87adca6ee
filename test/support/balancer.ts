// A private nginx in front of service replicas, for the scale-out test and bench/scale.ts: runs the
// shipped deploy/nginx/payments.conf with only its upstream servers and listen address rewritten, in a
// temporary prefix of its own (config, pid, logs, temp files), never the system's nginx. Nothing here
// imports vitest, so the benchmark uses it too.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';

/** deploy/nginx/payments.conf, found from this file's folder up (test/support, or dist-bench/test/support). */
function shippedConfig(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'deploy', 'nginx', 'payments.conf');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('deploy/nginx/payments.conf not found above test/support');
}

/** The shipped config with `upstreams` (host:port) as the upstream's servers and nginx on `port`. */
export function balancerConfig(upstreams: string[], port: number): string {
  const shipped = readFileSync(shippedConfig(), 'utf8');
  const block = /(upstream payment_service \{\n)([\s\S]*?)(\n\})/.exec(shipped);
  if (!block?.[2]) throw new Error('payments.conf: no `upstream payment_service { ... }` block');
  const serverLine = /^(\s*)server \S+( [^;\n]*)?;$/m.exec(block[2]);
  if (!serverLine) throw new Error('payments.conf: no `server host:port ...;` line in the upstream');
  const [indent, options] = [serverLine[1] ?? '    ', serverLine[2] ?? ''];
  const servers = upstreams.map((address) => `${indent}server ${address}${options};`).join('\n');
  const body = block[2].replace(/^\s*server \S+( [^;\n]*)?;\n?/gm, '').replace(/\n*$/, '');
  const rewritten = shipped.replace(block[0], `${block[1]}${servers}\n${body}${block[3]}`);
  if (!/^\s*listen \d+;$/m.test(rewritten)) throw new Error('payments.conf: no `listen <port>;` line');
  return rewritten.replace(/^(\s*)listen \d+;$/m, `$1listen 127.0.0.1:${port};`);
}

export interface Balancer {
  url: string;
  port: number;
  /** The master's pid; `processPids()` adds its workers (for CPU accounting). */
  pid: number;
  processPids(): number[];
  /** nginx's error log so far (warnings about failed upstreams land here). */
  errorLog(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Children of `pid` (nginx's workers), read from /proc. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Starts nginx on a free loopback port in front of `upstreams` (e.g. ['127.0.0.1:4001', ...]).
 * `workerProcesses` defaults to 1: on two cores the balancer should not compete with the replicas.
 */
export async function startBalancer(
  upstreams: string[],
  options: { workerProcesses?: number | 'auto' } = {},
): Promise<Balancer> {
  if (!existsSync(NGINX)) {
    throw new Error(`nginx not found at ${NGINX}: apt-get install -y nginx-light (or set NGINX)`);
  }
  const prefix = mkdtempSync(path.join(tmpdir(), 'payments-nginx-'));
  const port = await freePort();
  writeFileSync(path.join(prefix, 'payments.conf'), balancerConfig(upstreams, port));
  const main = [
    'daemon off;',
    'master_process on;',
    `worker_processes ${options.workerProcesses ?? 1};`,
    `pid ${prefix}/nginx.pid;`,
    `error_log ${prefix}/error.log warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '    access_log off;',
    `    client_body_temp_path ${prefix}/client_body;`,
    `    proxy_temp_path ${prefix}/proxy;`,
    `    include ${prefix}/payments.conf;`,
    '}',
    '',
  ].join('\n');
  const confPath = path.join(prefix, 'nginx.conf');
  writeFileSync(confPath, main);
  // -e: the error log before the config is read, so nothing goes to /var/log/nginx.
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', confPath, '-e', `${prefix}/error.log`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    try {
      return readFileSync(path.join(prefix, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx did not start:\n${output}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const pid = child.pid as number;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    processPids: () => [pid, ...childrenOf(pid)],
    errorLog,
    stop,
  };
}
