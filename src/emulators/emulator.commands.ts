// `payctl emulator stripe|paypal --port N [--data-dir D]`: runs a provider emulator as its own process, for
// benchmarks (DESIGN section 14 measures the service against an out-of-process emulator) and for
// services pointed at it with STRIPE_API_BASE or PAYPAL_API_BASE.
import { type Command, InvalidArgumentError } from 'commander';
import { AdjustableClock } from '../clock.js';
import { createLogger, type Logger } from '../observability/logger.js';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535');
  }
  return parsed;
}

interface EmulatorOptions {
  port: number;
  host: string;
  dataDir?: string;
  publicUrl?: string;
}

function startOptions(options: EmulatorOptions) {
  return {
    port: options.port,
    host: options.host,
    dataDir: options.dataDir,
    publicUrl: options.publicUrl,
    // Its own clock, movable through POST /_emulator/clock.
    clock: new AdjustableClock(),
  };
}

async function runUntilSignalled(
  name: string,
  options: EmulatorOptions,
  start: (logger: Logger) => Promise<{ url: string; close(): Promise<void> }>,
): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
  const running = await start(logger);
  process.stdout.write(
    `${name} emulator listening on ${running.url}${options.dataDir ? ` (state in ${options.dataDir})` : ''}\n`,
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await running.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

export function registerEmulatorCommands(program: Command): void {
  const emulator = program.command('emulator').description('Run a payment provider emulator on its own');
  emulator
    .command('stripe')
    .description('Run the Stripe emulator (Stripe test mode over HTTP, with the /_emulator control API)')
    .option('--port <port>', 'listen port (0 picks a free one)', port, 12111)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--data-dir <dir>', 'keep the emulator state in this folder across restarts')
    .option('--public-url <url>', 'the URL shoppers reach the emulator at, for 3-D Secure pages')
    .action(async (options: EmulatorOptions) => {
      const { startStripeEmulator } = await import('./stripe/index.js');
      await runUntilSignalled('stripe', options, (logger) =>
        startStripeEmulator({ ...startOptions(options), logger }),
      );
    });
  emulator
    .command('paypal')
    .description('Run the PayPal emulator (PayPal sandbox REST over HTTP, with the /_emulator control API)')
    .option('--port <port>', 'listen port (0 picks a free one)', port, 12112)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--data-dir <dir>', 'keep the emulator state (and its webhook signing key) in this folder')
    .option('--public-url <url>', 'the URL payers reach the emulator at, for the approval page')
    .action(async (options: EmulatorOptions) => {
      const { startPayPalEmulator } = await import('./paypal/index.js');
      await runUntilSignalled('paypal', options, (logger) =>
        startPayPalEmulator({ ...startOptions(options), logger }),
      );
    });
}
