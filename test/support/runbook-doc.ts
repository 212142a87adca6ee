// Reads docs/runbook.md the way an on-call engineer does: find the row of a runbook procedure, take the
// command it says to run, and run it in a shell against a live service. The walk test drives the
// service only through these commands, so a command that drifts from what the service accepts fails.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { payctlPath } from './processes.js';

export interface RunbookRow {
  procedure: string;
  here: string;
  notes: string;
}

const RUNBOOK = path.resolve('docs/runbook.md');

/** Table cells split on `|` outside backticks (commands contain `\|` pipes). */
function cells(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let inCode = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '`') inCode = !inCode;
    if (ch === '\\' && line[i + 1] === '|') {
      current += '|';
      i++;
      continue;
    }
    if (ch === '|' && !inCode) {
      out.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  out.push(current.trim());
  return out.slice(1, -1);
}

/** The one row whose procedure cell starts with `procedure`, under the runbook's `## Runbook NNN` heading. */
export function runbookRow(runbook: string, procedure: string): RunbookRow {
  const lines = readFileSync(RUNBOOK, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith(`## Runbook ${runbook}`));
  if (start < 0) throw new Error(`docs/runbook.md has no section "## Runbook ${runbook}"`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  const rows = lines
    .slice(start, end < 0 ? undefined : end)
    .filter((line) => line.startsWith('| '))
    .map(cells)
    .filter((row) => row[0]?.startsWith(procedure));
  if (rows.length !== 1) {
    throw new Error(`runbook ${runbook}: ${rows.length} rows start with "${procedure}" (expected one)`);
  }
  const [row] = rows as [string[]];
  return { procedure: row[0] ?? '', here: row[1] ?? '', notes: row[2] ?? '' };
}

/** The first command in the row's cells (backtick spans) that starts with `prefix`. */
export function commandIn(row: RunbookRow, prefix: string): string {
  const spans = [...`${row.here} ${row.notes}`.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  const found = spans.find((span) => span.startsWith(prefix));
  if (!found) throw new Error(`"${row.procedure}" names no command starting with "${prefix}"`);
  return found;
}

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` in bash as the runbook's conventions set it up: `$URL`, `$OPS_TOKEN`, `$SK`,
 * `PAYCTL_URL`/`PAYCTL_TOKEN` exported, and `payctl` the built CLI.
 */
export function runShell(command: string, env: { URL: string; OPS_TOKEN: string; SK?: string }) {
  const script = `payctl() { "${process.execPath}" "${payctlPath()}" "$@"; }\n${command}\n`;
  return new Promise<ShellResult>((resolve) => {
    const child = spawn('bash', ['-c', script], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LOG_LEVEL: 'warn',
        ...env,
        PAYCTL_URL: env.URL,
        PAYCTL_TOKEN: env.OPS_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
