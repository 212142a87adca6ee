// Runs the built CLI as a real process (see global-setup), for start/stop, signal and multi-process tests.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import { TEST_LIMITS } from './limits.js';

export function payctlPath(): string {
  return path.join(inject('distDir'), 'src', 'cli', 'payctl.js');
}

export interface RunningProcess {
  child: ChildProcess;
  /** stdout and stderr interleaved as they arrived. */
  output(): string;
  /** stdout alone: what a script piping the command would read. */
  stdout(): string;
  /** Resolves once the output contains `text` (or rejects after `timeoutMs`). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnPayctl(args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [payctlPath(), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...TEST_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    append(chunk);
  });
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    waitFor(text, timeoutMs = 15_000) {
      const matches = () => (typeof text === 'string' ? output.includes(text) : text.test(output));
      if (matches()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${String(text)}; output so far:\n${output}`));
        }, timeoutMs);
        const check = () => {
          if (matches()) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        void exited.then(() => {
          if (!matches()) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`process exited before ${String(text)}; output:\n${output}`));
          }
        });
      });
    },
  };
}

/** Runs payctl to completion and returns its exit code and output. */
export async function runPayctl(args: string[], env: Record<string, string>, timeoutMs = 30_000) {
  const running = spawnPayctl(args, env);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  const { code } = await running.exited;
  clearTimeout(timer);
  return { code, output: running.output(), stdout: running.stdout() };
}
