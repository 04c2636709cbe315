/**
 * Translations. Every capability keeps its own messages in src/<capability>/messages.ts
 * ({ en: {...}, fr: {...} } with the same keys), listed in its manifest; the list of capabilities installs them here
 * (installMessages). A key missing in either language
 * fails the i18n test, so nothing ships half-translated.
 */
import { messages as common } from './common-messages';

export type Lang = 'en' | 'fr';
export const LANGS: Lang[] = ['en', 'fr'];
export type Messages = { en: Record<string, string>; fr: Record<string, string> };

/** Every bundle installed so far: the plumbing's own, then each capability's (installMessages). */
export const bundles: Messages[] = [common];

const table: Record<Lang, Record<string, string>> = { en: { ...common.en }, fr: { ...common.fr } };
export const allMessages = table;

/**
 * Add the capabilities' messages to the translation table (src/capabilities.ts calls it with the list's bundles).
 * Installing the same bundle again changes nothing.
 */
export function installMessages(list: readonly Messages[]): void {
  for (const b of list) {
    if (bundles.includes(b)) continue;
    bundles.push(b);
    Object.assign(table.en, b.en);
    Object.assign(table.fr, b.fr);
  }
}

export function isLang(v: unknown): v is Lang {
  return v === 'en' || v === 'fr';
}

/** Translate a key; {name} placeholders are replaced from params. Unknown keys return the key itself. */
export function t(lang: Lang, key: string, params?: Record<string, string | number>): string {
  const msg = table[lang][key] ?? table.en[key] ?? key;
  if (!params) return msg;
  return msg.replace(/\{(\w+)\}/g, (m, k: string) => (params[k] !== undefined ? String(params[k]) : m));
}

/** Pick the best language from an Accept-Language header (default English). */
export function langFromHeader(header: string | undefined): Lang {
  if (!header) return 'en';
  const parts = header
    .split(',')
    .map((p) => {
      const [tag, ...rest] = p.trim().split(';');
      const q = rest.find((r) => r.trim().startsWith('q='));
      return { tag: tag.toLowerCase(), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .sort((a, b) => b.q - a.q);
  for (const p of parts) {
    if (p.tag.startsWith('fr')) return 'fr';
    if (p.tag.startsWith('en')) return 'en';
  }
  return 'en';
}

/** Pick the field of a bilingual record: pick(row, 'title', 'fr') -> row.title_fr. */
export function pick<T extends Record<string, any>>(row: T, field: string, lang: Lang): string {
  return (row[`${field}_${lang}`] ?? row[`${field}_${lang === 'en' ? 'fr' : 'en'}`] ?? '') as string;
}

/**
 * Number formatters, built once per language and style: constructing an Intl.NumberFormat costs about 0.2 ms, so a
 * page with a few hundred figures spent most of its time there; formatting with a built one costs about 1 µs.
 */
const numberFormats = new Map<string, Intl.NumberFormat>();
export function numberFormat(lang: Lang, style: 'decimal' | 'currency' | 'percent' = 'decimal'): Intl.NumberFormat {
  const key = `${lang}|${style}`;
  let f = numberFormats.get(key);
  if (!f) {
    const opts: Intl.NumberFormatOptions = style === 'currency' ? { style, currency: 'CAD' } : style === 'percent' ? { style, maximumFractionDigits: 1 } : {};
    numberFormats.set(key, (f = new Intl.NumberFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', opts)));
  }
  return f;
}

export function formatMoney(cents: number, lang: Lang): string {
  return numberFormat(lang, 'currency').format(cents / 100);
}

/**
 * An amount typed in a form, in dollars ("7.50", "7,50", "$14", "1 000,00"), as integer cents: `{ cents: null }` when
 * empty, `{ code }` when it is not an amount ('notInteger' for more than two decimals, 'invalid' otherwise). A
 * leading minus is kept (the caller refuses negative amounts with its own code).
 */
export function parseMoneyInput(v: unknown): { cents: number | null; code?: undefined } | { cents?: undefined; code: 'invalid' | 'notInteger' } {
  const str = typeof v === 'string' ? v.trim().replace(/[\s\u00a0\u202f$]/g, '').replace(',', '.') : '';
  if (!str) return { cents: null };
  if (!/^-?\d+(\.\d{1,2})?$/.test(str)) return { code: /^-?\d+\.\d{3,}$/.test(str) ? 'notInteger' : 'invalid' };
  const [d, c = ''] = str.replace('-', '').split('.');
  const n = Number(d) * 100 + Number(c.padEnd(2, '0'));
  return { cents: str.startsWith('-') ? -n : n };
}

const localDateFormats = new Map<string, Intl.DateTimeFormat>();
/**
 * 'YYYY-MM-DD' of an instant in a time zone (default: Eastern, where the demo partners are). The formatter is built
 * once per zone: constructing an Intl.DateTimeFormat costs about 0.1 ms (ICU time-zone data), more than the rest of
 * a simple request.
 */
export function localDate(at: Date = new Date(), timeZone = 'America/Toronto'): string {
  let f = localDateFormats.get(timeZone);
  if (!f) localDateFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(at);
}

const pluralRules = { en: new Intl.PluralRules('en-CA'), fr: new Intl.PluralRules('fr-CA') };

/**
 * A message that depends on a count, by the language's plural rules: `<key>.one`, `<key>.other` (and any other
 * category the language has), falling back to `<key>.other`. French counts 0 and 1 as "one" ("0 client en attente").
 * `{n}` is the count, formatted for the language. Pages: `tn('key', n)`.
 */
export function tn(lang: Lang, key: string, n: number, params: Record<string, string | number> = {}): string {
  const k = `${key}.${pluralRules[lang].select(n)}`;
  const found = table[lang][k] ?? table.en[k];
  return t(lang, found !== undefined ? k : `${key}.other`, { n: formatNumber(n, lang), ...params });
}

export function formatNumber(n: number, lang: Lang): string {
  return numberFormat(lang).format(n);
}

export function formatDate(d: Date | string, lang: Lang, opts: Intl.DateTimeFormatOptions = { dateStyle: 'long' }): string {
  const date = typeof d === 'string' ? new Date(d.length === 10 ? `${d}T12:00:00Z` : d) : d;
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', { timeZone: 'America/Toronto', ...opts }).format(date);
}
