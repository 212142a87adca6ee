// The API shape of a blocked address and the inputs that block one.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { ipAddressParam } from '../../http/client-address.js';
import type { IpBlockRow } from './ip-blocks.table.js';

export const ipSchema = ipAddressParam();

/** Seconds a manual block lasts (absent: until unblocked): a minute to a year. */
export const manualBlockSeconds = () =>
  z
    .number()
    .int()
    .min(60)
    .max(366 * 86_400);
export const durationSecondsSchema = z.coerce.number<string | number>().pipe(manualBlockSeconds());

export interface IpBlockObject {
  object: 'ip_block';
  ip: string;
  reason: IpBlockRow['reason'];
  note: string | null;
  blocked_at: number;
  /** Unix seconds; null: until an operator unblocks it. */
  blocked_until: number | null;
  blocked_by: string | null;
}

export function toIpBlockObject(row: IpBlockRow): IpBlockObject {
  return {
    object: 'ip_block',
    ip: row.ip,
    reason: row.reason,
    note: row.note,
    blocked_at: unixSeconds(row.blocked_at),
    blocked_until: row.blocked_until ? unixSeconds(row.blocked_until) : null,
    blocked_by: row.blocked_by,
  };
}
