// Who is calling: a merchant's API key or an operator. Routes receive one of these, already checked.
import type { KeyKind } from '../modules/keys/keys.table.js';
import type { OperatorRole } from '../modules/operators/operators.table.js';

export interface MerchantPrincipal {
  merchantId: string;
  livemode: boolean;
  keyId: string;
  keyKind: KeyKind;
  /** Restricted keys only; null means every scope. */
  scopes: readonly string[] | null;
}

export interface OperatorPrincipal {
  operatorId: string;
  email: string;
  role: OperatorRole;
  permissions: ReadonlySet<string>;
  via: 'session' | 'token';
  /** An admin who has not passed (or not enrolled) the TOTP second factor: may only enrol and log out. */
  mfaPending?: boolean;
  sessionId?: string;
}

export interface RequestInfo {
  requestId: string;
  ip: string;
  userAgent: string | undefined;
}

export interface Authenticators {
  merchant(authorization: string | undefined): Promise<MerchantPrincipal>;
  operator(authorization: string | undefined, sessionCookie: string | undefined): Promise<OperatorPrincipal>;
  /** Records a refused operator action and returns the 403 to send. */
  operatorDenied(
    operator: OperatorPrincipal,
    permission: string,
    action: string,
    info: RequestInfo,
  ): Promise<Error>;
}
