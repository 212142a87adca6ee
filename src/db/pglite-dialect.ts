// A Kysely dialect over PGlite, the embedded default (DESIGN section 2).
// PGlite is one connection in one process. Each Kysely connection lease runs inside PGlite's own
// exclusive transaction (pg.transaction), so statements from concurrent requests can never slip into
// another request's transaction: they wait for the lease to end.
import type { PGlite, Transaction as PgliteTransaction } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

class PgliteLease implements DatabaseConnection {
  release: () => void = () => {};

  constructor(readonly tx: PgliteTransaction) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    // Like node-postgres, a statement without parameters goes over the simple protocol, which allows
    // several statements in one string (migrations); the last statement's result is returned.
    const result =
      compiled.parameters.length === 0
        ? ((await this.tx.exec(compiled.sql)).at(-1) ?? { rows: [], affectedRows: 0 })
        : await this.tx.query<R>(compiled.sql, compiled.parameters as unknown[]);
    const affected = result.affectedRows;
    return {
      rows: result.rows as R[],
      ...(affected !== undefined && affected !== null ? { numAffectedRows: BigInt(affected) } : {}),
    };
  }

  /** Runs a control statement and reports whether PostgreSQL answered with a different command. */
  async control(statement: string): Promise<string | undefined> {
    const results = (await this.tx.exec(statement)) as { command?: string }[];
    return results[0]?.command;
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered on the embedded database
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on PGlite; page through results instead');
  }
}

class PgliteDriver implements Driver {
  constructor(
    private readonly pg: PGlite,
    private readonly onLeaseError: (error: unknown) => void,
  ) {}

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    return new Promise<DatabaseConnection>((resolve, reject) => {
      let leased = false;
      this.pg
        .transaction(async (tx) => {
          const lease = new PgliteLease(tx);
          const released = new Promise<void>((release) => {
            lease.release = release;
          });
          leased = true;
          resolve(lease);
          await released;
        })
        .catch((error) => {
          // A statement that failed outside a Kysely transaction leaves PGlite's wrapper to roll back;
          // the statement's own error already reached its caller.
          if (!leased) reject(error);
          else this.onLeaseError(error);
        });
    });
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // The lease is already inside BEGIN; only the isolation level is left to set.
    if (settings.isolationLevel) {
      await connection.executeQuery(
        CompiledQuery.raw(`set transaction isolation level ${settings.isolationLevel}`),
      );
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as PgliteLease;
    const command = await lease.control('COMMIT');
    // Re-open a transaction for PGlite's wrapper to close; it stays empty.
    await lease.control('BEGIN');
    if (command?.toUpperCase() === 'ROLLBACK') {
      throw new Error('the transaction was rolled back by the database (an earlier statement failed)');
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as PgliteLease;
    await lease.control('ROLLBACK');
    await lease.control('BEGIN');
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PgliteLease).release();
  }

  async destroy(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}

export class PgliteDialect implements Dialect {
  constructor(
    private readonly pg: PGlite,
    private readonly onLeaseError: (error: unknown) => void = () => {},
  ) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PgliteDriver(this.pg, this.onLeaseError);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}
