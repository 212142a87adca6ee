/** A key's own requests-per-second limit; keys without a row get RATE_LIMIT_PER_KEY_PER_SECOND. */
export interface ApiKeyRateLimitsTable {
  key_id: string;
  per_second: number;
  updated_at: Date;
  updated_by: string | null;
}
