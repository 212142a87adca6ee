// Publishes the audit chain's head outside the database (DESIGN invariant 7), hourly: a line appended to
// `audit-chain-heads.jsonl` in AUDIT_HEAD_DIR (default DATA_DIR), a log line `audit chain head
// published` (which the log pipeline keeps away from the database) and the gauges
// audit_chain_head_seq / audit_chain_head_published_timestamp_seconds. Someone able to rewrite the
// database and recompute every hash still cannot make the log match a head published before: the
// verifier checks every published head against the row at its seq.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import client from 'prom-client';
import { z } from 'zod';
import type { Database } from '../../db/schema.js';
import { defineJob } from '../../jobs/jobs.js';
import type { Logger } from '../../observability/logger.js';
import { readChainHead } from './audit.repository.js';

export const HEADS_FILE = 'audit-chain-heads.jsonl';
export const PUBLISH_HEAD_JOB = 'audit.publish_head';
export const PUBLISH_HEAD_INTERVAL_SECONDS = 3600;

const publishedHead = z.object({
  seq: z.number().int().min(0),
  id: z.string().nullable(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  published_at: z.string(),
});
export type PublishedHead = z.infer<typeof publishedHead>;

export class AuditHeadPublisher {
  private readonly seqGauge: client.Gauge;
  private readonly timeGauge: client.Gauge;

  /** `dir` undefined: an in-memory database (tests), whose heads mean nothing once the process ends. */
  constructor(
    private readonly db: Kysely<Database>,
    readonly dir: string | undefined,
    private readonly logger: Logger,
    registry: client.Registry,
  ) {
    this.seqGauge = new client.Gauge({
      name: 'audit_chain_head_seq',
      help: 'seq of the audit chain head last published by this process',
      registers: [registry],
    });
    this.timeGauge = new client.Gauge({
      name: 'audit_chain_head_published_timestamp_seconds',
      help: 'When this process last published the audit chain head (Unix seconds)',
      registers: [registry],
    });
  }

  get file(): string | undefined {
    return this.dir === undefined ? undefined : path.resolve(this.dir, HEADS_FILE);
  }

  async publish(now: Date): Promise<PublishedHead> {
    const tail = await readChainHead(this.db);
    const head: PublishedHead = {
      seq: tail.seq,
      id: tail.id,
      hash: tail.hash,
      published_at: now.toISOString(),
    };
    const file = this.file;
    if (file) {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, `${JSON.stringify(head)}\n`, { mode: 0o640 });
    }
    this.logger.info({ audit_chain_head: head, file }, 'audit chain head published');
    this.seqGauge.set(head.seq);
    this.timeGauge.set(now.getTime() / 1000);
    return head;
  }

  /** Every head published to this publisher's file, oldest first. */
  readPublished(): { source: string | null; heads: PublishedHead[] } {
    const file = this.file;
    return file ? readPublishedHeads(file) : { source: null, heads: [] };
  }
}

/** Every head published to `file`, oldest first; none when there is no file yet. */
export function readPublishedHeads(file: string): { source: string; heads: PublishedHead[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { source: file, heads: [] };
    throw error;
  }
  const heads = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const parsed = publishedHead.safeParse(safeJson(line));
      if (!parsed.success) throw new Error(`${file} line ${i + 1} is not a published audit chain head`);
      return parsed.data;
    });
  return { source: file, heads };
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

export function publishHeadJob(publisher: AuditHeadPublisher) {
  return defineJob({
    name: PUBLISH_HEAD_JOB,
    version: 1,
    payload: z.object({}),
    handler: async (_payload, context) => {
      await publisher.publish(context.now);
    },
  });
}
