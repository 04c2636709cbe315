/**
 * Queries compiled once per shape and then only bound to new values.
 *
 * Kysely builds an operation tree and compiles it to SQL on every call: for the agent's hot commands (open a case,
 * log an interaction, refer) that was about a fifth of the server's CPU per request, to produce the same SQL text
 * each time (docs/cases.md, "Benchmark, sixth session"). `reusable()` keeps the typed query builder as the one
 * definition of the query, builds it the first time a shape is used, with stand-ins for the values, and then only
 * puts the values in the stand-ins' places. The SQL text is then the same string object on every call, which is
 * also what the prepared-statement cache (database.ts) looks up.
 *
 * The rule for `build`: a value from `p` is used only as a value (`where('x', '=', p.x)`, `values({ x: p.x })`,
 * `eb.val(p.x)`, `sql\`${p.x}\``), never inside an expression of JavaScript (`'→ ' + p.x`, `p.x.trim()`) and never to
 * decide what the query looks like: what changes the SQL goes in `shape`, the cache key. A stand-in found anywhere
 * but as a whole parameter (in the SQL text, inside another string, in an array or an object) stops the build with
 * an error, so a break of the rule fails the first test that runs the query, not a request in production.
 * Constants of the query (`'in', OPEN_STATUSES`, a literal 1) stay as compiled.
 *
 * Both database engines compile with Kysely's PostgreSQL compiler, so one compiled text serves both.
 */
import { CompiledQuery, type Compilable, type RawBuilder } from 'kysely';
import { directRows, type Database } from './database';

const STAND_IN = '\u0000guichet:value:';

interface Shape {
  sql: string;
  parameters: readonly unknown[];
  /** [position in parameters, name in p] of every stand-in */
  slots: Array<[number, string]>;
  compiled: CompiledQuery<unknown>;
}

export interface Reusable<P, R, S extends string> {
  /** The rows of the query for these values. */
  rows(db: Database, shape: S, values: P): Promise<R[]>;
  /** The first row, or undefined. */
  first(db: Database, shape: S, values: P): Promise<R | undefined>;
  /** The compiled query for these values (what `rows` executes). */
  bind(db: Database, shape: S, values: P): CompiledQuery<R>;
}

function containsStandIn(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes(STAND_IN);
  if (depth > 4 || v === null || typeof v !== 'object') return false;
  if (v instanceof Date || Buffer.isBuffer(v)) return false;
  return Object.values(v as Record<string, unknown>).some((x) => containsStandIn(x, depth + 1));
}

function compileShape<P, R>(db: Database, shape: string, build: (db: Database, p: P, shape: string) => Compilable<R>): Shape {
  const p = new Proxy({} as Record<string, string>, {
    get: (_target, key) => (typeof key === 'string' ? STAND_IN + key : undefined),
    // `{ ...p }` or Object.keys(p) would see no values at all: name each value instead
    ownKeys: () => {
      throw new Error(`reusable query (shape ${shape}): the values are not listed or spread; name each one (p.x)`);
    },
  }) as unknown as P;
  const compiled = build(db, p, shape).compile() as CompiledQuery<unknown>;
  if (compiled.sql.includes(STAND_IN)) throw new Error(`reusable query (shape ${shape}): a value was written into the SQL text; pass it as a value`);
  const slots: Array<[number, string]> = [];
  compiled.parameters.forEach((v, i) => {
    if (typeof v === 'string' && v.startsWith(STAND_IN) && !v.includes(STAND_IN, 1)) slots.push([i, v.slice(STAND_IN.length)]);
    else if (containsStandIn(v)) throw new Error(`reusable query (shape ${shape}): parameter ${i + 1} is computed from a value; compute it before and pass it whole`);
  });
  return { sql: compiled.sql, parameters: compiled.parameters, slots, compiled };
}

/**
 * A query defined once with the typed builder and compiled once per shape. `shape` names what changes the SQL
 * (e.g. whether the agent is the one-stop's); the values go in `p`.
 */
export function reusable<P extends Record<string, unknown>, R, S extends string = 'default'>(build: (db: Database, p: P, shape: S) => Compilable<R>): Reusable<P, R, S> {
  const shapes = new Map<string, Shape>();
  const shapeOf = (db: Database, shape: S): Shape => {
    let s = shapes.get(shape);
    if (!s) {
      s = compileShape(db, shape, build as (db: Database, p: P, shape: string) => Compilable<R>);
      shapes.set(shape, s);
    }
    return s;
  };
  const parametersOf = (s: Shape, shape: S, values: P): unknown[] => {
    const parameters = s.parameters.slice();
    for (const [i, name] of s.slots) {
      const v = values[name];
      // undefined is not a SQL value: a missing value is a bug of the caller, not a NULL
      if (v === undefined) throw new Error(`reusable query (shape ${shape}): no value for ${name}`);
      parameters[i] = v;
    }
    return parameters;
  };
  const bind = (db: Database, shape: S, values: P): CompiledQuery<R> => {
    const s = shapeOf(db, shape);
    return { ...s.compiled, sql: s.sql, parameters: parametersOf(s, shape, values) } as CompiledQuery<R>;
  };
  // PostgreSQL: straight to the pool (directRows); otherwise (PGlite, a transaction, plugins) through Kysely
  const rows = async (db: Database, shape: S, values: P): Promise<R[]> => {
    const s = shapeOf(db, shape);
    const parameters = parametersOf(s, shape, values);
    const direct = directRows(db, s.sql, parameters);
    if (direct) return (await direct) as R[];
    return (await db.executeQuery({ ...s.compiled, sql: s.sql, parameters } as CompiledQuery<R>)).rows;
  };
  return {
    bind,
    rows,
    first: async (db, shape, values) => (await rows(db, shape, values))[0],
  };
}

/** A raw `sql` query as a Compilable for reusable(): `reusable((db, p) => rawCompilable(db, sql\`... ${p.x} ...\`))`. */
export function rawCompilable<R>(db: Database, query: RawBuilder<R>): Compilable<R> {
  return { compile: () => query.compile(db) };
}
