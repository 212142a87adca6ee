// What every payctl command needs: the parsed global options and configuration, a way to act in process
// against the configured database, a client for a running service, and errors meant for the user.
import type { Command } from 'commander';
import type { z } from 'zod';
import { type Config, loadConfig } from '../config.js';
import type { Service } from '../main.js';
import { RemoteClient } from './remote.js';

/** A mistake in how payctl was called: printed as one line, exit code 64 (EX_USAGE). */
export class UsageError extends Error {}

export interface Globals {
  url: string | undefined;
  token: string | undefined;
  json: boolean;
  config: Config;
}

export function globalsOf(program: Command): Globals {
  const options = program.opts<{ url?: string; token?: string; json?: boolean }>();
  const config = loadConfig();
  return {
    url: options.url ?? config.PAYCTL_URL,
    token: options.token ?? config.PAYCTL_TOKEN,
    json: options.json === true,
    config,
  };
}

/** A client for the running service named by --url; an operator token is required with it. */
export function remoteClient(globals: Globals): RemoteClient {
  if (!globals.url) throw new UsageError('no service URL: pass --url or set PAYCTL_URL');
  if (!globals.token) {
    throw new UsageError('an operator API token is required with --url: pass --token or set PAYCTL_TOKEN');
  }
  return new RemoteClient(globals.url, globals.token);
}

/**
 * Runs `fn` against a service built in this process on the configured database, then closes it. The
 * start-up bootstrap is skipped: a one-shot command must not create (and print) the first merchant.
 */
export async function inProcess<T>(config: Config, fn: (service: Service) => Promise<T>): Promise<T> {
  // Loaded on demand: remote commands should not pay for loading the whole service.
  const { createService } = await import('../main.js');
  const { createLogger } = await import('../observability/logger.js');
  const service = await createService(config, {
    role: 'api',
    bootstrap: false,
    // stdout carries the command's result (parseable with --json); the service's own warnings are
    // for the running service's logs, so a one-shot command reports errors only, on stderr.
    logger: createLogger({ level: 'error', destination: process.stderr }),
  });
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

/** Validates an option with the same zod schema the HTTP API uses, naming the option on failure. */
export function parseOption<S extends z.ZodType>(schema: S, value: unknown, flag: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${flag} (item ${issue.path.join('.')})` : flag;
  throw new UsageError(`${where}: ${issue?.message ?? 'invalid value'}`);
}
