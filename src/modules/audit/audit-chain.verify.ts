// `payctl audit verify` / GET /admin/audit/verify: walks the audit log in chain order, recomputing each
// row's hash and checking its link to the row before, then checks every head published outside the
// database (audit-head.ts) against the log. Finds an edited row (its hash no longer covers its
// content), a deleted one (the next row's predecessor is missing), reordered rows (a row's predecessor
// exists but sits elsewhere) and a truncated or rewritten tail (a published head no longer matches).
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { findAuditByHash, findAuditBySeq, listChainPage, readChainHead } from './audit.repository.js';
import type { AuditRow } from './audit.table.js';
import { chainHash, GENESIS_HASH } from './audit-chain.js';
import type { PublishedHead } from './audit-head.js';

export type ChainProblemKind =
  | 'edited'
  | 'deleted'
  | 'reordered'
  | 'head_mismatch'
  | 'published_head_missing'
  | 'published_head_mismatch';

export interface ChainProblem {
  kind: ChainProblemKind;
  seq: number | null;
  id: string | null;
  message: string;
}

export interface AuditChainReport {
  object: 'audit_chain_verification';
  ok: boolean;
  /** Rows walked: those up to the head read when verification started. */
  rows: number;
  head: { seq: number; id: string | null; hash: string };
  published: { source: string | null; checked: number; latest: PublishedHead | null };
  /** The first MAX_LISTED problems; `problem_count` counts them all. */
  problems: ChainProblem[];
  problem_count: number;
}

const PAGE = 1000;
const MAX_LISTED = 100;

export async function verifyAuditChain(
  db: Kysely<Database>,
  published: { source: string | null; heads: PublishedHead[] },
): Promise<AuditChainReport> {
  const problems: ChainProblem[] = [];
  let count = 0;
  const report = (problem: ChainProblem) => {
    count++;
    if (problems.length < MAX_LISTED) problems.push(problem);
  };
  // Rows past the head read now are a concurrent writer's: left for the next verification.
  const head = await readChainHead(db);
  let previous: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
  let rows = 0;
  for (;;) {
    const page = (await listChainPage(db, previous.seq, PAGE)).filter((row) => row.seq <= head.seq);
    for (const row of page) {
      const problem = await checkRow(db, row, previous);
      if (problem) report(problem);
      previous = { seq: row.seq, hash: row.hash };
      rows++;
    }
    if (page.length < PAGE) break;
  }
  if (previous.seq !== head.seq || previous.hash !== head.hash) {
    report({
      kind: 'head_mismatch',
      seq: head.seq,
      id: head.id,
      message: `audit_chain_head names seq ${head.seq} but the log ends at seq ${previous.seq}${
        previous.seq === head.seq ? ' with another hash' : ''
      }: rows were removed from or rewritten at the tail`,
    });
  }
  for (const problem of await checkPublishedHeads(db, published.heads)) report(problem);
  return {
    object: 'audit_chain_verification',
    ok: count === 0,
    rows,
    head: { seq: head.seq, id: head.id, hash: head.hash },
    published: {
      source: published.source,
      checked: published.heads.length,
      latest: published.heads.at(-1) ?? null,
    },
    problems,
    problem_count: count,
  };
}

async function checkRow(
  db: Kysely<Database>,
  row: AuditRow,
  previous: { seq: number; hash: string },
): Promise<ChainProblem | undefined> {
  const at = { seq: row.seq, id: row.id };
  if (chainHash(row.prev_hash, row) !== row.hash) {
    return {
      kind: 'edited',
      ...at,
      message: `row ${row.id} (seq ${row.seq}) no longer matches its hash: edited`,
    };
  }
  if (row.prev_hash === previous.hash) return undefined;
  const predecessor =
    row.prev_hash === GENESIS_HASH ? { seq: 0, id: 'the start' } : await findAuditByHash(db, row.prev_hash);
  if (predecessor) {
    return {
      kind: 'reordered',
      ...at,
      message: `row ${row.id} (seq ${row.seq}) follows ${predecessor.id} (seq ${predecessor.seq}) in the chain but is stored after seq ${previous.seq}: reordered`,
    };
  }
  return {
    kind: 'deleted',
    ...at,
    message: `the row before ${row.id} (seq ${row.seq}) in the chain, after seq ${previous.seq}, is missing: deleted (or rewritten)`,
  };
}

async function checkPublishedHeads(db: Kysely<Database>, heads: PublishedHead[]): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = [];
  let last: PublishedHead | undefined;
  for (const head of heads) {
    // Hours without operator actions publish the same head again: one look is enough.
    if (head.seq === 0 || (last && last.seq === head.seq && last.hash === head.hash)) continue;
    last = head;
    const row = await findAuditBySeq(db, head.seq);
    if (!row) {
      problems.push({
        kind: 'published_head_missing',
        seq: head.seq,
        id: head.id,
        message: `the head published at ${head.published_at} (seq ${head.seq}, ${head.id}) is not in the log: the tail was truncated or the row deleted`,
      });
    } else if (row.hash !== head.hash || row.id !== head.id) {
      problems.push({
        kind: 'published_head_mismatch',
        seq: head.seq,
        id: head.id,
        message: `the head published at ${head.published_at} (seq ${head.seq}, ${head.id}) does not match the log's row ${row.id} there: the chain was rewritten`,
      });
    }
  }
  return problems;
}
