/**
 * Operation counting for the benchmark suite (bench/): wraps the D1 and R2 bindings so every
 * D1 statement (with rows read and written) and every R2 class A / class B operation is
 * counted, plus the slow steps of checking credentials. Enabled only when REGISTRY_BENCH_MODE
 * is "1" (Settings.benchMode); otherwise the bindings are used untouched. Counters live per
 * isolate (locally the Worker and its Durable Objects share one).
 */
import { isR2Bucket, settingsOf } from "../config/load";

export interface OperationCounts {
  d1Queries: number;
  d1WriteStatements: number;
  /** Of d1WriteStatements, those appending to the audit trail (audit_events, src/audit/). */
  d1AuditWriteStatements: number;
  /** Of d1WriteStatements, those recording an event (INSERT INTO registry_events, src/events/). */
  d1EventWriteStatements: number;
  /** Of d1WriteStatements, the events' fan-out and deliveries (run by the events queue's consumer). */
  d1EventDeliveryWriteStatements: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  /** Of d1Queries, those sent through a Sessions API session (to the nearest read replica). */
  d1ReplicaQueries: number;
  r2ClassA: number;
  r2ClassB: number;
  /** PBKDF2 derivations of access-key secrets (src/auth/secrets.ts). */
  secretHashes: number;
  /** SigV4 signatures computed to check a request's (src/control/sigv4.ts). */
  signatureChecks: number;
}

const counts: OperationCounts = emptyCounts();

function emptyCounts(): OperationCounts {
  return {
    d1Queries: 0,
    d1WriteStatements: 0,
    d1AuditWriteStatements: 0,
    d1EventWriteStatements: 0,
    d1EventDeliveryWriteStatements: 0,
    d1RowsRead: 0,
    d1RowsWritten: 0,
    d1ReplicaQueries: 0,
    r2ClassA: 0,
    r2ClassB: 0,
    secretHashes: 0,
    signatureChecks: 0,
  };
}

/**
 * Counts a step of credential checking. Unlike the binding counts these are counted in the
 * code (an integer increment, bench mode or not): tests use them to show that unknown and known
 * access key ids cost the same work and that a throttled login costs none.
 */
export function countCredentialWork(kind: "secretHashes" | "signatureChecks"): void {
  counts[kind] += 1;
}

/** Returns the counts so far and starts again from zero. */
export function drainCounts(): OperationCounts {
  const snapshot = { ...counts };
  Object.assign(counts, emptyCounts());
  return snapshot;
}

const WRITE_SQL = /^\s*(insert|update|delete|replace)\b/i;
const AUDIT_WRITE_SQL = /^\s*insert\s+into\s+audit_events\b/i;
const EVENT_WRITE_SQL = /^\s*insert\s+into\s+"?registry_events"?/i;
const DELIVERY_WRITE_SQL = /^\s*(insert\s+into|update)\s+"?(event_deliveries|registry_events)"?/i;

function record(sql: string, meta: D1Meta | undefined, session: boolean): void {
  counts.d1Queries += 1;
  if (session) counts.d1ReplicaQueries += 1;
  if (WRITE_SQL.test(sql)) counts.d1WriteStatements += 1;
  if (AUDIT_WRITE_SQL.test(sql)) counts.d1AuditWriteStatements += 1;
  if (EVENT_WRITE_SQL.test(sql)) counts.d1EventWriteStatements += 1;
  else if (DELIVERY_WRITE_SQL.test(sql)) counts.d1EventDeliveryWriteStatements += 1;
  counts.d1RowsRead += meta?.rows_read ?? 0;
  counts.d1RowsWritten += meta?.rows_written ?? 0;
}

/** The SQL and the real statement behind each counted statement (batch needs the real one). */
const statementSql = new WeakMap<D1PreparedStatement, string>();
const realStatement = new WeakMap<D1PreparedStatement, D1PreparedStatement>();

function countStatement(statement: D1PreparedStatement, sql: string, session: boolean): D1PreparedStatement {
  const counted: D1PreparedStatement = new Proxy(statement, {
    get(target, property, receiver) {
      if (property === "bind") {
        return (...values: unknown[]) => countStatement(target.bind(...values), sql, session);
      }
      if (property === "all" || property === "run") {
        return async () => {
          const result = await (target[property] as () => Promise<D1Result>).call(target);
          record(sql, result.meta, session);
          return result;
        };
      }
      if (property === "first" || property === "raw") {
        return async (...args: unknown[]) => {
          record(sql, undefined, session);
          return (target[property] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return value;
    },
  });
  statementSql.set(counted, sql);
  realStatement.set(counted, statement);
  return counted;
}

/** The database or one of its sessions, with every statement counted. */
function countD1<T extends D1Database | D1DatabaseSession>(db: T, session = false): T {
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property === "prepare") return (sql: string) => countStatement(target.prepare(sql), sql, session);
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements.map((statement) => realStatement.get(statement) ?? statement));
          results.forEach((result, index) => record(statementSql.get(statements[index]!) ?? "", result.meta, session));
          return results;
        };
      }
      if (property === "withSession" && "withSession" in target) {
        return (constraint?: D1SessionBookmark) => countD1(target.withSession(constraint), true);
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return value;
    },
  });
}

const CLASS_A = new Set(["put", "list", "createMultipartUpload"]);
const CLASS_B = new Set(["get", "head"]);

function countMultipart(upload: R2MultipartUpload): R2MultipartUpload {
  return new Proxy(upload, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === "uploadPart" || property === "complete") counts.r2ClassA += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function countR2(bucket: R2Bucket): R2Bucket {
  return new Proxy(bucket, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      const name = String(property);
      return (...args: unknown[]) => {
        if (CLASS_A.has(name)) counts.r2ClassA += 1;
        if (CLASS_B.has(name)) counts.r2ClassB += 1;
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (name === "resumeMultipartUpload") return countMultipart(result as R2MultipartUpload);
        if (name === "createMultipartUpload") return (result as Promise<R2MultipartUpload>).then(countMultipart);
        return result;
      };
    },
  });
}

/** One counted environment per environment object, so its settings are parsed once too. */
const instrumented = new WeakMap<Env, Env>();

/** The environment with counted D1 and R2 bindings (the home bucket and any replica) when bench mode is on. */
export function instrumentEnv(env: Env): Env {
  if (!benchModeOf(env)) return env;
  let counted = instrumented.get(env);
  if (counted === undefined) {
    const replicas = Object.fromEntries(
      settingsOf(env).replicaRegions.flatMap(({ binding }) => {
        const bucket: unknown = Reflect.get(env, binding);
        return isR2Bucket(bucket) ? [[binding, countR2(bucket)]] : [];
      }),
    );
    counted = { ...env, ...replicas, DB: countD1(env.DB), BLOBS: countR2(env.BLOBS) };
    instrumented.set(env, counted);
  }
  return counted;
}

/**
 * Never throws: this runs before the app, whose own parse reports a malformed setting as a
 * 503 naming it (and a cron run fails with it); nothing is counted meanwhile.
 */
function benchModeOf(env: Env): boolean {
  try {
    return settingsOf(env).benchMode;
  } catch {
    return false;
  }
}
