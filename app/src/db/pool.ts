// PostgreSQL connection pool sized like SQLAlchemy's: DATABASE_POOL_SIZE connections kept,
// up to DATABASE_MAX_OVERFLOW more under load (closed again when idle).
import pg from "pg";

// bigint columns (seq) come back as JS numbers: seq stays far below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

export interface PoolOptions {
  databaseUrl: string;
  poolSize: number;
  maxOverflow: number;
  applicationName?: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    min: options.poolSize,
    max: options.poolSize + options.maxOverflow,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: options.applicationName ?? "chatapi",
    // Named (prepared) statements keep one generic plan per connection. With the default
    // (`auto`) PostgreSQL re-plans the message writer's batch insert for every small batch,
    // because a custom plan that knows the array lengths looks cheaper: that planning doubled
    // the database CPU of a 2-message batch (bench/tools/write-cost.ts: 453 against 227 µs per
    // message). Unnamed queries are planned per execution either way. The price: a generic plan
    // is often made on a nearly empty database and kept while tables grow, so a named statement
    // must leave index lookups the only sensible plan at any size (query-plans test).
    options: "-c plan_cache_mode=force_generic_plan",
    types,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  return pool;
}

/** True for a PostgreSQL unique_violation on the named constraint or index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === "23505" && (constraint === undefined || e.constraint === constraint);
}
