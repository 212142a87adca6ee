// Issue 9's operator account controls, beside the login they guard: lockout after 10 failed attempts for
// 30 minutes (PCI DSS 8.3.4), the TOTP second factor that admins must have (8.4.2), disabling accounts
// unused for 90 days (8.2.6) and the facts of the monthly access review (7.2.4). Every change is audited.
import type { Kysely, Transaction } from 'kysely';
import { type Clock, unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import type { OperatorPrincipal } from '../../http/principals.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import {
  claimTotpStep,
  clearLockout,
  clearTotp,
  confirmTotp,
  countFailedLogin,
  disableInactive,
  findLastActivity,
  listAccessFacts,
  markSessionMfaVerified,
  setPendingTotp,
} from './operator-security.repository.js';
import { findOperator } from './operators.repository.js';
import type { OperatorRole, OperatorRow } from './operators.table.js';
import { acceptTotp, newTotpSecret, type TotpSecrets } from './totp.js';

export const LOCKOUT_THRESHOLD = 10;
export const LOCKOUT_MS = 30 * 60_000;
export const INACTIVITY_DAYS = 90;
const DAY_MS = 86_400_000;
/** Roles that must pass a TOTP code before they can do anything but enrol. */
export const MFA_REQUIRED_ROLES: ReadonlySet<OperatorRole> = new Set(['payment-admin']);

export const requiresMfa = (role: OperatorRole) => MFA_REQUIRED_ROLES.has(role);

export class OperatorSecurity {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly totpSecrets: TotpSecrets,
  ) {}

  lockedUntil(operator: OperatorRow): Date | undefined {
    const until = operator.locked_until;
    return until && until > this.clock.now() ? until : undefined;
  }

  /** Counts a failed login against the account; the tenth locks it and is audited as such. */
  async countFailure(operator: OperatorRow, origin: AuditOrigin): Promise<void> {
    const lockEnd = new Date(this.clock.now().getTime() + LOCKOUT_MS);
    const after = await countFailedLogin(this.db, operator.id, LOCKOUT_THRESHOLD, lockEnd);
    if (after?.locked_until && after.locked_until.getTime() === lockEnd.getTime()) {
      await this.audit.record({
        actor: { type: 'system', id: null },
        action: 'operator.lock',
        resourceType: 'operator',
        resourceId: operator.id,
        outcome: 'success',
        origin,
        newValue: { locked_until: unixSeconds(lockEnd), failed_attempts: LOCKOUT_THRESHOLD },
      });
    }
  }

  /** True when the account was unused for 90 days: it is disabled now, at the login that found it. */
  async disableIfInactive(operator: OperatorRow, origin: AuditOrigin): Promise<boolean> {
    const last = await findLastActivity(this.db, operator.id);
    const now = this.clock.now();
    if (!last || now.getTime() - last.getTime() <= INACTIVITY_DAYS * DAY_MS) return false;
    const cutoff = new Date(now.getTime() - INACTIVITY_DAYS * DAY_MS);
    await this.db.transaction().execute(async (trx) => {
      for (const row of await disableInactive(trx, cutoff, now, operator.id)) {
        await this.auditInactive(trx, row.id, origin);
      }
    });
    return true;
  }

  /** The scheduled sweep: disables every account unused for 90 days. Returns how many. */
  async disableInactiveAccounts(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - INACTIVITY_DAYS * DAY_MS);
    // Each disabling and its audit row commit together: nobody sees a disabled account without the row.
    return this.db.transaction().execute(async (trx) => {
      const disabled = await disableInactive(trx, cutoff, now);
      for (const row of disabled) await this.auditInactive(trx, row.id, undefined);
      return disabled.length;
    });
  }

  private async auditInactive(trx: Transaction<Database>, id: string, origin: AuditOrigin | undefined) {
    await this.audit.record(
      {
        actor: { type: 'system', id: null },
        action: 'operator.disable',
        resourceType: 'operator',
        resourceId: id,
        outcome: 'success',
        origin,
        oldValue: { disabled: false },
        newValue: { disabled: true, reason: `inactive_${INACTIVITY_DAYS}_days` },
      },
      trx,
    );
  }

  /** Checks a login's TOTP code and takes its time step, so the same code never works twice. */
  async verifyLoginCode(operator: OperatorRow, code: string): Promise<boolean> {
    if (!operator.totp_ciphertext) return false;
    const secret = this.totpSecrets.open(operator.id, operator.totp_ciphertext);
    const step = acceptTotp(secret, code, this.clock.now(), operator.totp_last_step);
    return step !== undefined && (await claimTotpStep(this.db, operator.id, step));
  }

  /** Starts enrolment: a new secret, returned once as an otpauth:// URI and kept sealed until confirmed. */
  async startEnrolment(caller: OperatorPrincipal, origin: AuditOrigin) {
    const operator = await this.operator(caller.operatorId);
    if (operator.totp_ciphertext) {
      throw invalidParam(
        'totp',
        'A TOTP authenticator is already enrolled; an administrator can reset it.',
        'totp_already_enrolled',
      );
    }
    const { secret, uri } = newTotpSecret(operator.email);
    await this.db.transaction().execute(async (trx) => {
      await setPendingTotp(trx, operator.id, this.totpSecrets.seal(operator.id, secret));
      await this.audit.record(
        {
          actor: { type: 'operator', id: operator.id },
          action: 'operator.mfa_enrolment_start',
          resourceType: 'operator',
          resourceId: operator.id,
          outcome: 'success',
          origin,
        },
        trx,
      );
    });
    return { object: 'totp_enrolment' as const, otpauth_uri: uri, confirmed: false };
  }

  /** Confirms enrolment with the authenticator's first code; the calling session counts as verified. */
  async confirmEnrolment(caller: OperatorPrincipal, code: string, origin: AuditOrigin) {
    const operator = await this.operator(caller.operatorId);
    if (!operator.totp_pending_ciphertext || operator.totp_ciphertext) {
      throw invalidParam('code', 'Start enrolment first (POST /admin/mfa/totp).', 'totp_not_pending');
    }
    const secret = this.totpSecrets.open(operator.id, operator.totp_pending_ciphertext);
    const step = acceptTotp(secret, code, this.clock.now(), null);
    if (step === undefined) {
      await this.audit.record({
        actor: { type: 'operator', id: operator.id },
        action: 'operator.mfa_enrol',
        resourceType: 'operator',
        resourceId: operator.id,
        outcome: 'failure',
        origin,
      });
      throw invalidParam('code', 'The code does not match the authenticator.', 'totp_invalid');
    }
    await this.db.transaction().execute(async (trx) => {
      if (!(await confirmTotp(trx, operator.id, this.clock.now(), step))) {
        throw invalidParam('code', 'Start enrolment first (POST /admin/mfa/totp).', 'totp_not_pending');
      }
      if (caller.sessionId) await markSessionMfaVerified(trx, caller.sessionId);
      await this.audit.record(
        {
          actor: { type: 'operator', id: operator.id },
          action: 'operator.mfa_enrol',
          resourceType: 'operator',
          resourceId: operator.id,
          outcome: 'success',
          origin,
          oldValue: { mfa_enrolled: false },
          newValue: { mfa_enrolled: true },
        },
        trx,
      );
    });
    return { object: 'totp_enrolment' as const, confirmed: true };
  }

  /** An administrator removes another operator's authenticator (a lost phone); they enrol again. */
  async resetTotp(id: string, actor: OperatorPrincipal, origin: AuditOrigin) {
    if (id === actor.operatorId) throw invalidParam('id', 'You cannot reset your own second factor.');
    await this.operator(id, 'id');
    await this.db.transaction().execute(async (trx) => {
      await clearTotp(trx, id);
      await this.audit.record(
        {
          actor: { type: 'operator', id: actor.operatorId },
          action: 'operator.mfa_reset',
          resourceType: 'operator',
          resourceId: id,
          outcome: 'success',
          origin,
          newValue: { mfa_enrolled: false },
        },
        trx,
      );
    });
    return { id, object: 'operator' as const, mfa_enrolled: false };
  }

  async unlock(id: string, actor: AuditActor, origin?: AuditOrigin) {
    await this.operator(id, 'id');
    await this.db.transaction().execute(async (trx) => {
      await clearLockout(trx, id);
      await this.audit.record(
        {
          actor,
          action: 'operator.unlock',
          resourceType: 'operator',
          resourceId: id,
          outcome: 'success',
          origin,
          newValue: { locked: false },
        },
        trx,
      );
    });
    return { id, object: 'operator' as const, locked: false };
  }

  /** Runbook 003's monthly access review: who has which role, MFA, last use, and what needs attention. */
  async accessReview() {
    const now = this.clock.now();
    return (await listAccessFacts(this.db)).map((row) => {
      const daysSinceLastUse = Math.floor((now.getTime() - row.last_activity_at.getTime()) / DAY_MS);
      const mfaEnrolled = row.totp_enrolled_at !== null;
      const disabled = row.disabled_at !== null;
      const flags: string[] = [];
      if (!disabled && daysSinceLastUse > INACTIVITY_DAYS)
        flags.push(`inactive_over_${INACTIVITY_DAYS}_days`);
      if (!disabled && requiresMfa(row.role) && !mfaEnrolled) flags.push('admin_without_mfa');
      return {
        id: row.id,
        object: 'operator_access' as const,
        email: row.email,
        role: row.role,
        mfa_enrolled: mfaEnrolled,
        last_login_at: row.last_login_at ? unixSeconds(row.last_login_at) : null,
        last_used_at: unixSeconds(row.last_activity_at),
        days_since_last_use: daysSinceLastUse,
        disabled,
        locked: row.locked_until !== null && row.locked_until > now,
        active_tokens: row.active_tokens,
        flags,
      };
    });
  }

  private async operator(id: string, param?: string) {
    const row = await findOperator(this.db, id);
    if (!row) throw resourceMissing('operator', id, param ?? 'id');
    return row;
  }
}
