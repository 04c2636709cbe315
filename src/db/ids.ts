/**
 * Whether a string from a URL or a form can be an id of a given column type. Check ids with these before querying:
 * PostgreSQL rejects a value its column type cannot hold with an error (a 500), where the caller means "no such
 * thing" (a 404).
 */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A value of a `uuid` column. */
export const isUuid = (s: string): boolean => UUID_RE.test(s);

/**
 * The id of a `serial`/`bigserial` row, as a number: a positive whole number written plainly (no sign, exponent or
 * leading zero) and within JavaScript's safe integers, or null. Larger ids than 2^53 are never handed out here.
 */
export function serialId(s: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}
