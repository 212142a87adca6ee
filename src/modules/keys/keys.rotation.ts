// Runbook 003's "rotate API keys --older-than 90d": every secret and restricted key older than the age
// gets a replacement, the old one working through the overlap. A dry run lists them and changes nothing.
// Each rotation is audited on its own, with the same action as a single rotation.
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ApiKeyView } from './keys.js';
import type { KeysService } from './keys.service.js';

export interface AgedRotation {
  key: ApiKeyView;
  /** Absent in a dry run. */
  replacement?: ApiKeyView & { secret: string };
  old_key_expires_at?: number;
}

export async function rotateAgedKeys(
  deps: { keys: KeysService; audit: AuditService },
  options: { olderThanDays: number; overlapSeconds: number; dryRun: boolean },
  actor: AuditActor,
  origin?: AuditOrigin,
): Promise<AgedRotation[]> {
  const due = await deps.keys.rotationDue(options.olderThanDays);
  if (options.dryRun) return due.map((key) => ({ key }));
  const rotated: AgedRotation[] = [];
  for (const key of due) {
    const result = await deps.keys.rotate(key.id, options.overlapSeconds);
    await deps.audit.record({
      actor,
      action: 'api_key.rotate',
      resourceType: 'api_key',
      resourceId: key.id,
      outcome: 'success',
      origin,
      newValue: {
        replacement: result.key.id,
        old_key_expires_at: result.previous.expires_at,
        older_than_days: options.olderThanDays,
      },
    });
    rotated.push({
      key,
      replacement: { ...result.key, secret: result.secret },
      old_key_expires_at: result.previous.expires_at,
    });
  }
  return rotated;
}
