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
