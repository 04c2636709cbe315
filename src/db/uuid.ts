/**
 * Whether a string can be the value of a `uuid` column. Check ids from URLs and forms with it before querying:
 * PostgreSQL rejects anything else with an error (a 500), where the caller means "no such thing" (a 404).
 */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string): boolean => UUID_RE.test(s);
