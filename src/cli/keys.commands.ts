// payctl keys: create (the secret printed once), list, rotate with an overlap, revoke. In process every
// change is audited with the CLI user as actor; over --url the service audits the token's operator.
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { scopeSchema } from '../modules/keys/keys.js';
import { type AgedRotation, rotateAgedKeys } from '../modules/keys/keys.rotation.js';
import { DEFAULT_ROTATION_OVERLAP_SECONDS } from '../modules/keys/keys.routes.js';
import { type Globals, inProcess, parseOption, remoteClient, UsageError } from './context.js';
import { printJson, printTable } from './output.js';

type KeyObject = Record<string, unknown> & { id: string; secret?: string };

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });

const scopesOption = z.array(scopeSchema).min(1).max(50);
const daysOption = z.coerce.number().int().min(1).max(3650);
const overlapOption = z.coerce
  .number()
  .int()
  .min(0)
  .max(30 * 86_400);

/** `90d`, `12w` or a number of days. */
const ageOption = z
  .string()
  .regex(/^\d+[dw]?$/, { message: "must be an age such as '90d' or '12w'" })
  .transform((value) => Number.parseInt(value, 10) * (value.endsWith('w') ? 7 : 1))
  .pipe(z.number().int().min(1).max(3650));

async function rotateAged(g: Globals, olderThanDays: number, overlapSeconds: number, dryRun: boolean) {
  const rotations = g.url
    ? (
        await remoteClient(g).request<{ data: AgedRotation[] }>('POST', '/admin/keys/rotate_aged', {
          older_than_days: olderThanDays,
          overlap_seconds: overlapSeconds,
          dry_run: dryRun,
        })
      ).data
    : await inProcess(g.config, ({ services }) =>
        rotateAgedKeys(services, { olderThanDays, overlapSeconds, dryRun }, cliActor()),
      );
  if (g.json) {
    printJson({ dry_run: dryRun, older_than_days: olderThanDays, data: rotations });
    return;
  }
  printTable(
    rotations.map((rotation) => ({
      id: rotation.key.id,
      redacted: rotation.key.redacted,
      age_days: rotation.key.age_days,
      replacement: rotation.replacement?.id ?? (dryRun ? '(dry run)' : null),
      old_key_expires_at: rotation.old_key_expires_at ?? null,
    })),
    ['id', 'redacted', 'age_days', 'replacement', 'old_key_expires_at'],
  );
  for (const rotation of rotations) {
    if (rotation.replacement) {
      process.stdout.write(
        `\n${rotation.replacement.id} secret (shown once, store it now): ${rotation.replacement.secret}`,
      );
    }
  }
  process.stdout.write(
    `\n${rotations.length} key(s) older than ${olderThanDays} days ${dryRun ? 'would be rotated (dry run)' : 'rotated'}\n`,
  );
}

function printKey(globals: Globals, key: KeyObject): void {
  if (globals.json) {
    printJson(key);
    return;
  }
  printTable([key], ['id', 'kind', 'livemode', 'redacted', 'expires_at']);
  if (key.secret) process.stdout.write(`\nsecret (shown once, store it now): ${key.secret}\n`);
}

export function registerKeyCommands(program: Command, globals: () => Globals): void {
  const keys = program.command('keys').description('Merchant API keys');

  keys
    .command('create')
    .description('Create an API key; the secret is printed once')
    .requiredOption('--merchant <id>', 'merchant id (acct_...)')
    .addOption(new Option('--kind <kind>').choices(['secret', 'restricted', 'publishable']).default('secret'))
    .option('--live', 'a live-mode key (default test mode)')
    .option('--name <name>', 'a label for the key')
    .option(
      '--scopes <scopes>',
      'restricted keys: comma-separated, e.g. customers:read,payment_intents:write',
    )
    .option('--expires-in-days <days>', 'the key stops working after this many days')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const g = globals();
      const kind = options.kind as 'secret' | 'restricted' | 'publishable';
      const scopes =
        typeof options.scopes === 'string'
          ? parseOption(
              scopesOption,
              options.scopes.split(',').map((s) => s.trim()),
              '--scopes',
            )
          : undefined;
      const days =
        options.expiresInDays !== undefined
          ? parseOption(daysOption, options.expiresInDays, '--expires-in-days')
          : undefined;
      const body = {
        merchant: String(options.merchant),
        kind,
        livemode: options.live === true,
        ...(typeof options.name === 'string' ? { name: options.name } : {}),
        ...(scopes ? { scopes } : {}),
        ...(days !== undefined ? { expires_in_days: days } : {}),
      };
      const created = g.url
        ? await remoteClient(g).request<KeyObject>('POST', '/admin/keys', body)
        : await inProcess(g.config, async ({ services, clock }) => {
            await services.merchants.retrieve(body.merchant, 'merchant');
            const result = await services.keys.create(body.merchant, {
              kind,
              livemode: body.livemode,
              name: body.name,
              scopes,
              expiresAt: days !== undefined ? new Date(clock.now().getTime() + days * 86_400_000) : undefined,
            });
            await services.audit.record({
              actor: cliActor(),
              action: 'api_key.create',
              resourceType: 'api_key',
              resourceId: result.key.id,
              outcome: 'success',
              newValue: result.key,
            });
            return { ...result.key, secret: result.secret } as KeyObject;
          });
      printKey(g, created);
    });

  keys
    .command('list')
    .description('List API keys (redacted)')
    .option('--merchant <id>', 'only this merchant')
    .action(async (options: { merchant?: string }) => {
      const g = globals();
      const query = options.merchant ? `?merchant=${encodeURIComponent(options.merchant)}` : '';
      const list = g.url
        ? (await remoteClient(g).request<{ data: KeyObject[] }>('GET', `/admin/keys${query}`)).data
        : await inProcess(g.config, ({ services }) => services.keys.list(options.merchant));
      if (g.json) {
        printJson(list);
        return;
      }
      printTable(list as unknown as Record<string, unknown>[], [
        'id',
        'kind',
        'livemode',
        'redacted',
        'created',
        'age_days',
        'expires_at',
        'revoked_at',
        'last_used_at',
      ]);
    });

  keys
    .command('rotate [id]')
    .description(
      'Issue a replacement key (the old one keeps working for the overlap), or with --older-than every key that old',
    )
    .option('--overlap <seconds>', 'how long the old key keeps working (alias --overlap-seconds)')
    .option(
      '--overlap-seconds <seconds>',
      'how long the old key keeps working',
      String(DEFAULT_ROTATION_OVERLAP_SECONDS),
    )
    .option('--older-than <age>', "rotate every secret and restricted key older than this, e.g. '90d'")
    .option('--dry-run', 'with --older-than: list the keys that would be rotated, change nothing')
    .action(
      async (
        id: string | undefined,
        options: { overlap?: string; overlapSeconds: string; olderThan?: string; dryRun?: boolean },
      ) => {
        const g = globals();
        const overlap = parseOption(overlapOption, options.overlap ?? options.overlapSeconds, '--overlap');
        if (options.olderThan !== undefined) {
          if (id) throw new UsageError('give either a key id or --older-than, not both');
          const days = parseOption(ageOption, options.olderThan, '--older-than');
          await rotateAged(g, days, overlap, options.dryRun === true);
          return;
        }
        if (!id) throw new UsageError('a key id or --older-than <age> is required');
        if (options.dryRun) throw new UsageError('--dry-run goes with --older-than');
        const rotated = g.url
          ? await remoteClient(g).request<KeyObject>('POST', `/admin/keys/${encodeURIComponent(id)}/rotate`, {
              overlap_seconds: overlap,
            })
          : await inProcess(g.config, async ({ services }) => {
              const result = await services.keys.rotate(id, overlap);
              await services.audit.record({
                actor: cliActor(),
                action: 'api_key.rotate',
                resourceType: 'api_key',
                resourceId: id,
                outcome: 'success',
                newValue: { replacement: result.key.id, old_key_expires_at: result.previous.expires_at },
              });
              return { ...result.key, secret: result.secret, previous: result.previous } as KeyObject;
            });
        printKey(g, rotated);
      },
    );

  keys
    .command('revoke <id>')
    .description('Revoke an API key at once')
    .action(async (id: string) => {
      const g = globals();
      const revoked = g.url
        ? await remoteClient(g).request<KeyObject>('POST', `/admin/keys/${encodeURIComponent(id)}/revoke`)
        : await inProcess(g.config, async ({ services }) => {
            const { before, after } = await services.keys.revoke(id);
            await services.audit.record({
              actor: cliActor(),
              action: 'api_key.revoke',
              resourceType: 'api_key',
              resourceId: id,
              outcome: 'success',
              oldValue: before,
              newValue: after,
            });
            return after as unknown as KeyObject;
          });
      printKey(g, revoked);
    });
}
