/**
 * Translations. Every capability keeps its own messages in src/<capability>/messages.ts
 * ({ en: {...}, fr: {...} } with the same keys); they are merged here. A key missing in either language
 * fails the i18n test, so nothing ships half-translated.
 */
import { messages as common } from './common-messages';
import { messages as catalogue } from '../catalogue/messages';
import { messages as catalogueSearch } from '../catalogue/search/messages';
import { messages as catalogueCpsv } from '../catalogue/cpsv/messages';
import { messages as cataloguePortal } from '../catalogue/portal/messages';
import { messages as catalogueEditor } from '../catalogue/editor/messages';
import { messages as staff } from '../staff/messages';
import { messages as clients } from '../clients/messages';
import { messages as notices } from '../notices/messages';
import { messages as cases } from '../cases/messages';
import { messages as counters } from '../counters/messages';
import { messages as agreements } from '../agreements/messages';
import { messages as performance } from '../performance/messages';

export type Lang = 'en' | 'fr';
export const LANGS: Lang[] = ['en', 'fr'];
export type Messages = { en: Record<string, string>; fr: Record<string, string> };

export const bundles: Messages[] = [common, catalogue, catalogueSearch, catalogueCpsv, cataloguePortal, catalogueEditor, staff, clients, notices, cases, counters, agreements, performance];

const table: Record<Lang, Record<string, string>> = { en: {}, fr: {} };
for (const b of bundles) {
  Object.assign(table.en, b.en);
  Object.assign(table.fr, b.fr);
}
export const allMessages = table;

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

export function formatMoney(cents: number, lang: Lang): string {
  return new Intl.NumberFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', { style: 'currency', currency: 'CAD' }).format(cents / 100);
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

export function formatNumber(n: number, lang: Lang): string {
  return new Intl.NumberFormat(lang === 'fr' ? 'fr-CA' : 'en-CA').format(n);
}

export function formatDate(d: Date | string, lang: Lang, opts: Intl.DateTimeFormatOptions = { dateStyle: 'long' }): string {
  const date = typeof d === 'string' ? new Date(d.length === 10 ? `${d}T12:00:00Z` : d) : d;
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', { timeZone: 'America/Toronto', ...opts }).format(date);
}
