// Operator accounts, sessions and API tokens. Sessions end after 15 idle minutes or 12 hours; API tokens
// (for payctl) live until revoked. Every change and every login attempt leaves an audit row. Lockout,
// the TOTP second factor and the inactivity rule are operator-security.ts's.
import type { Kysely } from 'kysely';
import { type Clock, unixSeconds } from '../../clock.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { Database } from '../../db/schema.js';
import {
  AppError,
  authenticationFailed,
  invalidParam,
  permissionDenied,
  resourceMissing,
} from '../../http/errors.js';
import type { OperatorPrincipal } from '../../http/principals.js';
import { newId, randomBase62, sha256Hex } from '../../ids.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { type OperatorSecurity, requiresMfa } from './operator-security.js';
import { recordSuccessfulLogin } from './operator-security.repository.js';
import {
  DUMMY_PASSWORD_HASH,
  hashPassword,
  ROLE_PERMISSIONS,
  toOperatorObject,
  verifyPassword,
} from './operators.js';
import {
  findOperator,
  findOperatorByEmail,
  findSessionByHash,
  findToken,
  findTokenByHash,
  insertOperator,
  insertSession,
  insertToken,
  listOperators,
  listTokens,
  revokeSessionByHash,
  setOperatorDisabled,
  setTokenRevoked,
  touchSession,
  touchToken,
} from './operators.repository.js';
import type { OperatorRole, OperatorRow } from './operators.table.js';

export const SESSION_IDLE_MS = 15 * 60_000;
export const SESSION_MAX_MS = 12 * 3_600_000;

const operatorExists = (email: string) =>
  invalidParam('email', `An operator with the email ${email} already exists.`, 'operator_exists');

export class OperatorsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly security: OperatorSecurity,
    private readonly onFailure: (reason: string) => void = () => {},
  ) {}

  async create(
    input: { email: string; password: string; role: OperatorRole },
    actor: AuditActor,
    origin?: AuditOrigin,
  ) {
    const passwordHash = await hashPassword(input.password);
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (await findOperatorByEmail(trx, input.email)) throw operatorExists(input.email);
        const row = await insertOperator(trx, {
          id: newId('op', 16),
          email: input.email,
          password_hash: passwordHash,
          role: input.role,
          created_at: this.clock.now(),
        });
        await this.audit.record(
          {
            actor,
            action: 'operator.create',
            resourceType: 'operator',
            resourceId: row.id,
            outcome: 'success',
            origin,
            newValue: { role: row.role },
          },
          trx,
        );
        return toOperatorObject(row);
      });
    } catch (error) {
      // Two creates of one email at once: the unique index refuses the later one.
      throw isUniqueViolation(error) ? operatorExists(input.email) : error;
    }
  }

  /** Makes sure the operator named by BOOTSTRAP_ADMIN_EMAIL exists with the payment-admin role. */
  async bootstrapAdmin(email: string, password: string): Promise<void> {
    if (await findOperatorByEmail(this.db, email.toLowerCase())) return;
    try {
      await this.create(
        { email: email.toLowerCase(), password, role: 'payment-admin' },
        { type: 'system', id: null },
      );
    } catch (error) {
      // Another replica starting at the same moment created it first: that is the wanted outcome.
      if (!(error instanceof AppError && error.code === 'operator_exists')) throw error;
    }
  }

  /** Disabling ends every session and token of the operator at once (authenticate checks it). */
  async disable(id: string, actor: OperatorPrincipal, origin: AuditOrigin) {
    if (id === actor.operatorId) throw invalidParam('id', 'You cannot disable your own account.');
    return this.db.transaction().execute(async (trx) => {
      const before = await findOperator(trx, id);
      if (!before) throw resourceMissing('operator', id, 'id');
      const after = await setOperatorDisabled(trx, id, this.clock.now());
      if (!after) throw invalidParam('id', `The operator ${id} is already disabled.`, 'operator_disabled');
      await this.audit.record(
        {
          actor: { type: 'operator', id: actor.operatorId },
          action: 'operator.disable',
          resourceType: 'operator',
          resourceId: id,
          outcome: 'success',
          origin,
          oldValue: { disabled: false },
          newValue: { disabled: true },
        },
        trx,
      );
      return toOperatorObject(after);
    });
  }

  async list() {
    return (await listOperators(this.db)).map(toOperatorObject);
  }

  async login(email: string, password: string, totp: string | undefined, origin: AuditOrigin) {
    // Runbook 003's brute-force block is enforced before this runs, for logins and API keys alike
    // (src/modules/ip-blocks): a refused login here is a 401 the block counts.
    const operator = await findOperatorByEmail(this.db, email);
    const lockedUntil = operator ? this.security.lockedUntil(operator) : undefined;
    if (operator && lockedUntil) {
      // The password is not even checked while the account is locked, and this attempt does not count.
      this.onFailure('operator_locked');
      await this.audit.record({
        actor: { type: 'operator', id: operator.id },
        action: 'operator.login',
        resourceType: 'operator',
        resourceId: operator.id,
        outcome: 'denied',
        origin,
        newValue: { reason: 'account_locked' },
      });
      throw authenticationFailed(
        'This account is locked after too many failed logins. Try again later or ask an administrator to unlock it.',
        'account_locked',
      );
    }
    const valid = await verifyPassword(password, operator?.password_hash ?? DUMMY_PASSWORD_HASH);
    if (!operator || !valid || operator.disabled_at) {
      await this.failLogin(operator, operator && !operator.disabled_at, origin, 'password');
      throw authenticationFailed('Invalid email or password.', 'invalid_credentials');
    }
    if (await this.security.disableIfInactive(operator, origin)) {
      this.onFailure('operator_inactive');
      throw authenticationFailed(
        'This account was disabled after 90 days without use. Ask an administrator to enable a new account.',
        'account_inactive',
      );
    }
    let mfaVerified = false;
    if (operator.totp_ciphertext) {
      if (totp === undefined) {
        // The password was right: not a failure, the client asks for the code and sends both again.
        throw authenticationFailed(
          'This account has a second factor: send the authenticator code as `totp` with the password.',
          'totp_required',
        );
      }
      if (!(await this.security.verifyLoginCode(operator, totp))) {
        await this.failLogin(operator, true, origin, 'totp');
        throw authenticationFailed('The authenticator code is wrong or was already used.', 'totp_invalid');
      }
      mfaVerified = true;
    }
    const token = `ops_${randomBase62(40)}`;
    const now = this.clock.now();
    const sessionId = newId('sess');
    await this.db.transaction().execute(async (trx) => {
      await insertSession(trx, {
        id: sessionId,
        token_hash: sha256Hex(token),
        operator_id: operator.id,
        created_at: now,
        last_seen_at: now,
        expires_at: new Date(now.getTime() + SESSION_MAX_MS),
        mfa_verified: mfaVerified,
      });
      await recordSuccessfulLogin(trx, operator.id, now);
      await this.audit.record(
        {
          actor: { type: 'operator', id: operator.id },
          action: 'operator.login',
          resourceType: 'operator_session',
          resourceId: sessionId,
          outcome: 'success',
          origin,
          newValue: { mfa: mfaVerified },
        },
        trx,
      );
    });
    return {
      token,
      operator: toOperatorObject({
        ...operator,
        last_login_at: now,
        failed_login_count: 0,
        locked_until: null,
      }),
      idle_timeout_seconds: SESSION_IDLE_MS / 1000,
      // An admin without an authenticator gets a session that can only enrol one (POST /admin/mfa/totp).
      mfa_enrolment_required: requiresMfa(operator.role) && !mfaVerified,
    };
  }

  /** A failed password or code: audited, counted per IP (the audit rows) and, for a real account, per account. */
  private async failLogin(
    operator: OperatorRow | undefined,
    countsAgainstAccount: boolean | undefined,
    origin: AuditOrigin,
    factor: 'password' | 'totp',
  ): Promise<void> {
    this.onFailure(factor === 'totp' ? 'operator_totp' : 'operator_login');
    await this.audit.record({
      actor: { type: 'operator', id: operator?.id ?? null },
      action: 'operator.login',
      resourceType: 'operator',
      resourceId: operator?.id,
      outcome: 'failure',
      origin,
      ...(factor === 'totp' ? { newValue: { reason: 'totp_invalid' } } : {}),
    });
    if (operator && countsAgainstAccount) await this.security.countFailure(operator, origin);
  }

  async logout(token: string, operatorId: string, origin: AuditOrigin): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const sessionId = await revokeSessionByHash(trx, sha256Hex(token), this.clock.now());
      await this.audit.record(
        {
          actor: { type: 'operator', id: operatorId },
          action: 'operator.logout',
          resourceType: 'operator_session',
          resourceId: sessionId,
          outcome: 'success',
          origin,
        },
        trx,
      );
    });
  }

  async createToken(operatorId: string, name: string, origin: AuditOrigin) {
    const token = `opt_${randomBase62(40)}`;
    const id = newId('optok', 16);
    await this.db.transaction().execute(async (trx) => {
      await insertToken(trx, {
        id,
        token_hash: sha256Hex(token),
        operator_id: operatorId,
        name,
        created_at: this.clock.now(),
      });
      await this.audit.record(
        {
          actor: { type: 'operator', id: operatorId },
          action: 'operator_token.create',
          resourceType: 'operator_token',
          resourceId: id,
          outcome: 'success',
          origin,
          newValue: { name },
        },
        trx,
      );
    });
    return { id, object: 'operator_token' as const, name, token };
  }

  /** An operator sees their own tokens; one who may configure sees everyone's. */
  async listTokens(caller: OperatorPrincipal) {
    const own = caller.permissions.has('payment:configure') ? undefined : caller.operatorId;
    return (await listTokens(this.db, own)).map((row) => ({
      id: row.id,
      object: 'operator_token' as const,
      operator: row.operator_id,
      name: row.name,
      created: unixSeconds(row.created_at),
      last_used_at: row.last_used_at ? unixSeconds(row.last_used_at) : null,
      revoked_at: row.revoked_at ? unixSeconds(row.revoked_at) : null,
    }));
  }

  async revokeToken(id: string, caller: OperatorPrincipal, origin: AuditOrigin) {
    return this.db.transaction().execute(async (trx) => {
      const token = await findToken(trx, id);
      const visible =
        token && (token.operator_id === caller.operatorId || caller.permissions.has('payment:configure'));
      // Someone else's token answers as missing, so ids of other operators' tokens are not confirmed.
      if (!visible) throw resourceMissing('operator_token', id, 'id');
      if (!(await setTokenRevoked(trx, id, this.clock.now()))) {
        throw invalidParam('id', `The operator token ${id} is already revoked.`, 'operator_token_revoked');
      }
      await this.audit.record(
        {
          actor: { type: 'operator', id: caller.operatorId },
          action: 'operator_token.revoke',
          resourceType: 'operator_token',
          resourceId: id,
          outcome: 'success',
          origin,
        },
        trx,
      );
      return { id, object: 'operator_token' as const, revoked: true };
    });
  }

  /** Bearer `opt_` (API token) or `ops_` (session), or the session cookie. */
  async authenticate(
    authorization: string | undefined,
    sessionCookie: string | undefined,
  ): Promise<OperatorPrincipal> {
    const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const token = bearer ?? sessionCookie;
    if (!token) {
      this.onFailure('operator_missing');
      throw authenticationFailed(
        'Operator authentication required: log in or send an operator token.',
        'operator_auth_required',
      );
    }
    const now = this.clock.now();
    if (token.startsWith('opt_')) {
      const found = await findTokenByHash(this.db, sha256Hex(token));
      if (!found || found.revoked_at || found.disabled_at) return this.reject('operator_token');
      await touchToken(this.db, found.token_id, now);
      // An admin's token works only while the admin has a second factor enrolled.
      return principal(found, 'token', requiresMfa(found.role) && found.totp_enrolled_at === null);
    }
    if (token.startsWith('ops_')) {
      const found = await findSessionByHash(this.db, sha256Hex(token));
      if (
        !found ||
        found.revoked_at ||
        found.disabled_at ||
        found.expires_at <= now ||
        now.getTime() - found.last_seen_at.getTime() > SESSION_IDLE_MS
      ) {
        return this.reject('operator_session');
      }
      await touchSession(this.db, found.session_id, now);
      const pending = requiresMfa(found.role) && !found.mfa_verified;
      return { ...principal(found, 'session', pending), sessionId: found.session_id };
    }
    return this.reject('operator_malformed');
  }

  private reject(reason: string): never {
    this.onFailure(reason);
    throw authenticationFailed(
      'The operator session or token is invalid or has expired.',
      'operator_auth_invalid',
    );
  }

  /** Records a refused operator action (BFLA attempts are worth an audit row too). */
  async recordDenied(operator: OperatorPrincipal, permission: string, action: string, origin: AuditOrigin) {
    await this.audit.record({
      actor: { type: 'operator', id: operator.operatorId },
      action,
      outcome: 'denied',
      origin,
      newValue: { required_permission: permission, ...(operator.mfaPending ? { mfa_pending: true } : {}) },
    });
    if (operator.mfaPending) {
      return permissionDenied(
        'Your role requires a second factor: enrol an authenticator (POST /admin/mfa/totp, then /admin/mfa/totp/confirm) or log in with its code.',
        'mfa_required',
      );
    }
    return permissionDenied(`Your role (${operator.role}) lacks the permission ${permission}.`);
  }
}

/** Every principal may act on its own account (`account:self`); a pending admin may do nothing else. */
export const SELF_PERMISSION = 'account:self';

function principal(
  found: { id: string; email: string; role: OperatorRole },
  via: 'session' | 'token',
  mfaPending: boolean,
): OperatorPrincipal {
  return {
    operatorId: found.id,
    email: found.email,
    role: found.role,
    permissions: new Set(mfaPending ? [SELF_PERMISSION] : [...ROLE_PERMISSIONS[found.role], SELF_PERMISSION]),
    via,
    mfaPending,
  };
}
