// `payctl preflight` and GET /admin/preflight: runbook 002's pre-deployment checklist, the parts a
// service can see for itself. Each check is ok, warn or fail with a line saying why; any fail fails the
// whole (payctl exits 1). Thresholds are the runbooks': keys rotated within 30 days, certificates valid
// for at least 90 days, a daily full backup (runbook 003), point-in-time recovery for a 5-minute RPO.
import type { Kysely } from 'kysely';
import { type Clock, unixSeconds } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Database } from '../../db/schema.js';
import { isLiveMode, providerConfigProblems } from '../../providers/registry.js';
import type { CheckStatus } from './backup-checks.js';
import { latestBackup } from './backups.repository.js';
import { endpointSecretCounts, liveKeysCreatedBefore, walArchiving } from './preflight.repository.js';
import { type CertificateInfo, readCertificate } from './tls-certificate.js';

const DAY_MS = 86_400_000;
export const KEY_MAX_AGE_DAYS = 30;
export const CERTIFICATE_MIN_DAYS = 90;
const CERTIFICATE_FAIL_DAYS = 14;
const BACKUP_WARN_HOURS = 24;
const BACKUP_FAIL_HOURS = 48;

export interface PreflightCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface PreflightReport {
  object: 'preflight';
  ok: boolean;
  checked_at: number;
  environment: string;
  livemode: boolean;
  checks: PreflightCheck[];
}

export interface PreflightDeps {
  db: Kysely<Database>;
  databaseKind: 'pglite' | 'postgres';
  clock: Clock;
  config: Config;
  /** Inbound Stripe webhook secrets the service verifies with (STRIPE_WEBHOOK_SECRET or the emulator's). */
  stripeWebhookSecrets: readonly string[];
}

const worst = (statuses: CheckStatus[]): CheckStatus =>
  statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'ok';

export class PreflightService {
  constructor(private readonly deps: PreflightDeps) {}

  async run(): Promise<PreflightReport> {
    const { clock, config } = this.deps;
    const checks = [
      await this.keyAge(),
      await this.webhookSecrets(),
      await this.certificates(),
      await this.backupsRecent(),
      await this.pointInTimeRecovery(),
      this.liveKeysInLiveMode(),
    ];
    return {
      object: 'preflight',
      ok: checks.every((check) => check.status !== 'fail'),
      checked_at: unixSeconds(clock.now()),
      environment: config.APP_ENV,
      livemode: isLiveMode(config),
      checks,
    };
  }

  /** Runbook 002: "API keys rotated within last 30 days". Old live keys fail, old test keys warn. */
  private async keyAge(): Promise<PreflightCheck> {
    const now = this.deps.clock.now();
    const old = await liveKeysCreatedBefore(
      this.deps.db,
      new Date(now.getTime() - KEY_MAX_AGE_DAYS * DAY_MS),
    );
    if (old.length === 0) {
      return { name: 'key_age', status: 'ok', detail: `no secret key older than ${KEY_MAX_AGE_DAYS} days` };
    }
    const described = old
      .slice(0, 5)
      .map(
        (key) =>
          `${key.id} (${key.prefix}..., ${Math.floor((now.getTime() - key.created_at.getTime()) / DAY_MS)} days)`,
      );
    const live = old.filter((key) => key.livemode).length;
    return {
      name: 'key_age',
      status: live > 0 ? 'fail' : 'warn',
      detail:
        `${old.length} secret key(s) older than ${KEY_MAX_AGE_DAYS} days (${live} live): ${described.join(', ')}` +
        `${old.length > 5 ? ', ...' : ''}; rotate with payctl keys rotate <id>`,
    };
  }

  /** Inbound: each real provider has its webhook secret; outbound: every enabled endpoint has one. */
  private async webhookSecrets(): Promise<PreflightCheck> {
    const { config } = this.deps;
    const problems: string[] = [];
    const notes: string[] = [];
    const embedded = config.emulators === 'embedded';
    if (config.STRIPE_SECRET_KEY || config.STRIPE_API_BASE) {
      if (config.STRIPE_WEBHOOK_SECRET.length === 0) problems.push('STRIPE_WEBHOOK_SECRET is not set');
      else notes.push(`Stripe: ${config.STRIPE_WEBHOOK_SECRET.length} secret(s)`);
    } else if (embedded && this.deps.stripeWebhookSecrets.length > 0) notes.push('Stripe: embedded emulator');
    if (config.PAYPAL_CLIENT_ID || config.PAYPAL_API_BASE) {
      if (!config.PAYPAL_WEBHOOK_ID) problems.push('PAYPAL_WEBHOOK_ID is not set');
      else notes.push('PayPal: webhook id set');
    } else if (embedded) notes.push('PayPal: embedded emulator');
    const endpoints = await endpointSecretCounts(this.deps.db);
    if (endpoints.without_secret > 0) {
      problems.push(`${endpoints.without_secret} enabled endpoint(s) without a signing secret`);
    }
    notes.push(`outbound: ${endpoints.enabled} enabled endpoint(s), each with a signing secret`);
    const warnings =
      endpoints.live_over_http > 0 ? [`${endpoints.live_over_http} live endpoint(s) over plain http`] : [];
    const status: CheckStatus = problems.length > 0 ? 'fail' : warnings.length > 0 ? 'warn' : 'ok';
    return { name: 'webhook_secrets', status, detail: [...problems, ...warnings, ...notes].join('; ') };
  }

  /** The https URLs the service depends on: its own public URL (the ingress) and the providers'. */
  private certificateUrls(): string[] {
    const { config } = this.deps;
    const urls = [config.PUBLIC_URL];
    if (config.STRIPE_API_BASE) urls.push(config.STRIPE_API_BASE);
    else if (config.STRIPE_SECRET_KEY && config.emulators === 'off') urls.push('https://api.stripe.com');
    if (config.PAYPAL_API_BASE) urls.push(config.PAYPAL_API_BASE);
    return [...new Set(urls.filter((url): url is string => url !== undefined))];
  }

  private async certificates(): Promise<PreflightCheck> {
    const urls = this.certificateUrls();
    const https = urls.filter((url) => url.startsWith('https:'));
    if (https.length === 0) {
      const over = urls.length > 0 ? `${urls.join(', ')} over http` : 'no https URL configured';
      return {
        name: 'tls_certificates',
        status: 'ok',
        detail: `not applicable: ${over} (TLS ends at the ingress; set PUBLIC_URL=https://... to check its certificate)`,
      };
    }
    const now = this.deps.clock.now();
    const infos = await Promise.all(https.map((url) => readCertificate(url, now)));
    const rated = infos.map((info) => ({ info, status: rateCertificate(info) }));
    return {
      name: 'tls_certificates',
      status: worst(rated.map((r) => r.status)),
      detail: rated.map(({ info }) => describeCertificate(info)).join('; '),
    };
  }

  /** Runbook 003: a daily full backup; `payctl backup` records each one. */
  private async backupsRecent(): Promise<PreflightCheck> {
    const latest = await latestBackup(this.deps.db);
    if (!latest) {
      return { name: 'backups_recent', status: 'fail', detail: 'no backup recorded: run payctl backup' };
    }
    const hours = (this.deps.clock.now().getTime() - latest.created_at.getTime()) / 3_600_000;
    const status: CheckStatus =
      hours > BACKUP_FAIL_HOURS ? 'fail' : hours > BACKUP_WARN_HOURS ? 'warn' : 'ok';
    return {
      name: 'backups_recent',
      status,
      detail:
        `last backup ${latest.id} ${Math.floor(hours)} h ago (${latest.created_at.toISOString()}): ${latest.file}, ` +
        `${latest.size_bytes} bytes, sha256 ${latest.sha256.slice(0, 12)}...; daily expected (warn after ${BACKUP_WARN_HOURS} h, fail after ${BACKUP_FAIL_HOURS} h)`,
    };
  }

  /** Runbook 003's RPO of 5 minutes needs WAL archiving; a daily dump alone loses up to a day. */
  private async pointInTimeRecovery(): Promise<PreflightCheck> {
    if (this.deps.databaseKind === 'pglite') {
      return {
        name: 'point_in_time_recovery',
        status: 'warn',
        detail:
          'not available on embedded PGlite: the recovery point is the last backup; use PostgreSQL with WAL archiving for a 5-minute RPO',
      };
    }
    const wal = await walArchiving(this.deps.db);
    return wal.mode === 'off'
      ? {
          name: 'point_in_time_recovery',
          status: 'warn',
          detail:
            'archive_mode is off: recovery only to the last backup, not the 5-minute RPO (see docs/runbook.md, point-in-time recovery)',
        }
      : {
          name: 'point_in_time_recovery',
          status: 'ok',
          detail: `archive_mode=${wal.mode}, archive_command ${wal.command ? 'set' : 'NOT set'}`,
        };
  }

  /** Live mode must run on live provider credentials only (the same rule that refuses a start). */
  private liveKeysInLiveMode(): PreflightCheck {
    const { config } = this.deps;
    const problems = providerConfigProblems(config);
    if (problems.length > 0) {
      return { name: 'live_keys_in_live_mode', status: 'fail', detail: problems.join('; ') };
    }
    if (!isLiveMode(config)) {
      return {
        name: 'live_keys_in_live_mode',
        status: 'ok',
        detail: `test mode (APP_ENV=${config.APP_ENV}, no live Stripe key): test keys and emulators are expected`,
      };
    }
    const stripe = config.STRIPE_SECRET_KEY
      ? `Stripe ${config.STRIPE_SECRET_KEY.slice(0, 8)}...`
      : 'no Stripe';
    const paypal = config.PAYPAL_CLIENT_ID
      ? `PayPal at ${config.PAYPAL_API_BASE ?? 'api-m.paypal.com'}`
      : 'no PayPal';
    return {
      name: 'live_keys_in_live_mode',
      status: 'ok',
      detail: `live mode: ${stripe}, ${paypal}, no emulators`,
    };
  }
}

function rateCertificate(info: CertificateInfo): CheckStatus {
  if (!info.trusted || info.days_left === null) return 'fail';
  if (info.days_left < CERTIFICATE_FAIL_DAYS) return 'fail';
  return info.days_left < CERTIFICATE_MIN_DAYS ? 'warn' : 'ok';
}

function describeCertificate(info: CertificateInfo): string {
  if (info.days_left === null) return `${info.url}: no certificate read (${info.error})`;
  const trust = info.trusted ? '' : `, NOT trusted (${info.error})`;
  return `${info.url}: ${info.days_left} days left (until ${info.valid_to})${trust}`;
}
