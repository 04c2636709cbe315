/** Reading service standards: the duration a standard promises, parsed from its English text. */

export type DurationUnit = 'seconds' | 'minutes' | 'hours' | 'days' | 'business_days' | 'weeks' | 'months';

const WORDS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  fifteen: 15, twenty: 20, thirty: 30, 'forty-five': 45, forty: 40, sixty: 60, ninety: 90,
};

/**
 * "within 15 business days" -> { value: 15, unit: 'business_days' }; "ten (10) working days" -> 10 business_days;
 * "60 seconds" -> 60 seconds. Returns null when the text states no duration.
 */
export function parseDuration(text: string): { value: number; unit: DurationUnit } | null {
  const re = /\b(\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty-five|forty|sixty|ninety)\s*(?:\(\d+\)\s*)?(?:-\s*)?(business|working|calendar)?\s*(seconds?|minutes?|mins?|hours?|days?|weeks?|months?)\b/i;
  const m = re.exec(text);
  if (!m) return null;
  const raw = m[1].toLowerCase();
  const value = /^\d+$/.test(raw) ? Number(raw) : WORDS[raw];
  if (!value) return null;
  const qual = (m[2] ?? '').toLowerCase();
  const u = m[3].toLowerCase();
  let unit: DurationUnit;
  if (u.startsWith('sec')) unit = 'seconds';
  else if (u.startsWith('min')) unit = 'minutes';
  else if (u.startsWith('hour')) unit = 'hours';
  else if (u.startsWith('day')) unit = qual === 'business' || qual === 'working' ? 'business_days' : 'days';
  else if (u.startsWith('week')) unit = 'weeks';
  else unit = 'months';
  return { value, unit };
}
