// An audit entry: who did what to which resource, from where, with what outcome, old and new value.
// Personal data goes in by reference (ids), never by value.
import type { AuditOutcome } from './audit.table.js';

export interface AuditActor {
  type: 'operator' | 'cli' | 'system';
  id: string | null;
}

export interface AuditOrigin {
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

export interface AuditEntry {
  actor: AuditActor;
  action: string;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  outcome: AuditOutcome;
  origin?: AuditOrigin | undefined;
  oldValue?: unknown;
  newValue?: unknown;
}
