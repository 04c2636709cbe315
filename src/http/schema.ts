/** Schema helpers shared by the capabilities' routes. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * A field that may be null: `{ type: [X's type, 'null'] }` (JSON Schema 2020-12, as OpenAPI 3.1 writes it). Not
 * `Type.Union([X, Type.Null()])`: the server's Ajv coerces types (form posts send strings), and in an anyOf it tries
 * the first branch first, turning JSON null into '' (string) or 0 (number) before the null branch is reached. With
 * both types in one `type`, Ajv coerces only a value that is neither, so null stays null.
 * `schema` must have a single `type` (string, integer, object…).
 */
export const Nullable = <T extends TSchema>(schema: T) => {
  if (typeof schema.type !== 'string') throw new Error('Nullable: the schema needs a single type');
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });
};

/**
 * A calendar day 'YYYY-MM-DD' that exists ('2026-02-30' does not: Ajv's `date` format checks the days of each month)
 * in the years 1900 to 2199 (a far year like 9999 overflowed the day arithmetic and PostgreSQL; both answered 500).
 */
export const CalendarDate = (opts: { description?: string } = {}) =>
  Type.String({ format: 'date', pattern: '^(19|20|21)\\d{2}-\\d{2}-\\d{2}$', ...opts });

/** The largest integer a JSON number holds exactly (2^53 - 1); a `bigint` cursor beyond it cannot be compared. */
export const MAX_SAFE_CURSOR = Number.MAX_SAFE_INTEGER;
