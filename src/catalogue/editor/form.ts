/**
 * The service edit form: flat field names (works without JavaScript), parsed into a Snapshot with per-field errors.
 * Money is entered in dollars ("90", "90.50", "1,234.50", "1 234,50 $") and stored as integer cents.
 */
import type { FieldError } from '../../http/errors';
import { t, type Lang } from '../../i18n/index';
import { AUDIENCES, CHANNEL_TYPES, THEMES, type Snapshot } from './model';

export const EXTRA_ROWS = 2;
export const MAX_ROWS = 30;
const MAX_TITLE = 300;
const MAX_TEXT = 5000;
const MAX_SHORT = 500;
const MAX_CENTS = 100_000_000_00; // $100 million

type Body = Record<string, unknown>;

const str = (body: Body, k: string): string => {
  const v = body[k];
  if (typeof v === 'string') return v.trim();
  if (Array.isArray(v) && typeof v[0] === 'string') return String(v[0]).trim();
  return '';
};
const many = (body: Body, k: string): string[] => {
  const v = body[k];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' && v !== '' ? [v] : [];
};

/** Parse an amount in dollars into integer cents; null when it is not a valid amount. */
export function parseDollars(input: string): number | null {
  let s = input.replace(/[\s\u00a0\u202f$]/g, '').replace(/CAD$/i, '');
  if (!s) return null;
  const lastDot = s.lastIndexOf('.');
  const lastComma = s.lastIndexOf(',');
  if (lastDot >= 0 && lastComma >= 0) {
    const dec = lastDot > lastComma ? '.' : ',';
    const thousands = dec === '.' ? ',' : '.';
    s = s.split(thousands).join('').replace(dec, '.');
  } else if (lastComma >= 0) {
    s = /^\d{1,3}(,\d{3})+$/.test(s) ? s.replace(/,/g, '') : s.replace(',', '.');
  }
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(cents) ? cents : null;
}

/** Cents to the dollars shown in the form ("90.00" / "90,00"). */
export function centsToInput(cents: number, lang: Lang): string {
  const s = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  return lang === 'fr' ? s.replace('.', ',') : s;
}

const isUrl = (v: string) => {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
};
const isEmail = (v: string) => /^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/.test(v) && v.length <= 254;
const isPhone = (v: string) => /^[0-9+().\-\s]{3,30}(\s*(x|ext\.?|poste)\s*\d{1,6})?$/i.test(v) && (v.match(/\d/g) ?? []).length >= 3;

const splitKeywords = (v: string) =>
  v
    .split(/[,;\n]/)
    .map((k) => k.trim())
    .filter(Boolean)
    .filter((k, i, all) => all.indexOf(k) === i);

/** Highest row index present in the body for a prefix like 'req_' (so rows beyond the rendered ones are kept). */
function rowCount(body: Body, prefix: string): number {
  let max = -1;
  for (const k of Object.keys(body)) {
    const m = new RegExp(`^${prefix}(\\d{1,3})_`).exec(k);
    const v = body[k];
    if (m && (typeof v === 'string' ? v.trim() !== '' : Array.isArray(v) && v.length > 0)) max = Math.max(max, Number(m[1]));
  }
  return Math.min(max + 1, MAX_ROWS + EXTRA_ROWS);
}

/**
 * Parse the posted form into a snapshot. `previous` supplies what the form does not show (channel notes,
 * requirement descriptions), so saving never loses it.
 */
export function parseServiceForm(body: Body, previous: Snapshot, lang: Lang): { snapshot: Snapshot; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const err = (field: string, code: string, params?: Record<string, string | number>) =>
    errors.push({ field, code, message: t(lang, `editor.error.${code}`, params) });

  const text = (field: string, required: boolean, max: number): string => {
    const v = str(body, field);
    if (required && !v) err(field, 'required');
    else if (v.length > max) err(field, 'tooLong', { max });
    return v;
  };
  const optional = (field: string, max: number): string | null => text(field, false, max) || null;

  const title_en = text('title_en', true, MAX_TITLE);
  const title_fr = text('title_fr', true, MAX_TITLE);
  const description_en = text('description_en', true, MAX_TEXT);
  const description_fr = text('description_fr', true, MAX_TEXT);
  const keywords_en = splitKeywords(str(body, 'keywords_en'));
  const keywords_fr = splitKeywords(str(body, 'keywords_fr'));
  for (const [f, ks] of [['keywords_en', keywords_en], ['keywords_fr', keywords_fr]] as const) {
    if (ks.length > 30 || ks.some((k) => k.length > 80)) err(f, 'keywords');
  }

  const audiences = many(body, 'audiences');
  if (audiences.some((a) => !(AUDIENCES as readonly string[]).includes(a))) err('audiences', 'notAllowed');
  const known = new Set<string>([...THEMES, ...previous.thematic_areas]);
  const thematic_areas = many(body, 'thematic_areas');
  if (thematic_areas.some((a) => !known.has(a))) err('thematic_areas', 'notAllowed');

  const channels: Snapshot['channels'] = [];
  for (const c of CHANNEL_TYPES) {
    const on = str(body, `ch_${c}`) === 'yes';
    const url_en = optional(`ch_${c}_url_en`, MAX_SHORT);
    const url_fr = optional(`ch_${c}_url_fr`, MAX_SHORT);
    const phone = optional(`ch_${c}_phone`, 40);
    const email = optional(`ch_${c}_email`, 254);
    if (!on) continue;
    if (url_en && !isUrl(url_en)) err(`ch_${c}_url_en`, 'url');
    if (url_fr && !isUrl(url_fr)) err(`ch_${c}_url_fr`, 'url');
    if (phone && !isPhone(phone)) err(`ch_${c}_phone`, 'phone');
    if (email && !isEmail(email)) err(`ch_${c}_email`, 'email');
    const prev = previous.channels.find((p) => p.channel === c);
    channels.push({ channel: c, url_en, url_fr, phone, email, notes_en: prev?.notes_en ?? null, notes_fr: prev?.notes_fr ?? null });
  }
  if (!channels.length) err('ch_online', 'channelRequired');

  const pair = (prefix: string, i: number, enKey: string, frKey: string, max: number) => {
    const en = str(body, `${prefix}${i}_${enKey}`);
    const fr = str(body, `${prefix}${i}_${frKey}`);
    if (en.length > max) err(`${prefix}${i}_${enKey}`, 'tooLong', { max });
    if (fr.length > max) err(`${prefix}${i}_${frKey}`, 'tooLong', { max });
    return { en, fr };
  };

  const requirements: Snapshot['requirements'] = [];
  for (let i = 0; i < rowCount(body, 'req_'); i++) {
    const { en, fr } = pair('req_', i, 'name_en', 'name_fr', MAX_SHORT);
    if (!en && !fr) continue;
    if (!en) err(`req_${i}_name_en`, 'bothLanguages');
    if (!fr) err(`req_${i}_name_fr`, 'bothLanguages');
    const prev = previous.requirements.find((r) => r.name_en === en);
    requirements.push({ name_en: en, name_fr: fr, description_en: prev?.description_en ?? null, description_fr: prev?.description_fr ?? null });
  }

  const costs: Snapshot['costs'] = [];
  for (let i = 0; i < rowCount(body, 'cost_'); i++) {
    const amount = str(body, `cost_${i}_amount`);
    const { en, fr } = pair('cost_', i, 'en', 'fr', MAX_SHORT);
    if (!amount && !en && !fr) continue;
    const cents = amount ? parseDollars(amount) : null;
    if (!amount) err(`cost_${i}_amount`, 'required');
    else if (cents === null) err(`cost_${i}_amount`, 'money');
    else if (cents > MAX_CENTS) err(`cost_${i}_amount`, 'moneyTooLarge');
    if (!en) err(`cost_${i}_en`, 'bothLanguages');
    if (!fr) err(`cost_${i}_fr`, 'bothLanguages');
    costs.push({ amount_cents: cents ?? 0, description_en: en, description_fr: fr });
  }

  const outputs: Snapshot['outputs'] = [];
  for (let i = 0; i < rowCount(body, 'out_'); i++) {
    const { en, fr } = pair('out_', i, 'en', 'fr', MAX_SHORT);
    if (!en && !fr) continue;
    if (!en) err(`out_${i}_en`, 'bothLanguages');
    if (!fr) err(`out_${i}_fr`, 'bothLanguages');
    outputs.push({ name_en: en, name_fr: fr });
  }
  if (requirements.length > MAX_ROWS) err('req_0_name_en', 'tooMany', { max: MAX_ROWS });
  if (costs.length > MAX_ROWS) err('cost_0_amount', 'tooMany', { max: MAX_ROWS });
  if (outputs.length > MAX_ROWS) err('out_0_en', 'tooMany', { max: MAX_ROWS });

  const agent_notes_en = optional('agent_notes_en', MAX_TEXT);
  const agent_notes_fr = optional('agent_notes_fr', MAX_TEXT);

  let guarantee_days: number | null = null;
  const g = str(body, 'guarantee_days');
  if (g) {
    if (!/^\d{1,4}$/.test(g) || Number(g) < 1 || Number(g) > 3650) err('guarantee_days', 'days');
    else guarantee_days = Number(g);
  }

  return {
    snapshot: {
      title_en, title_fr, description_en, description_fr, keywords_en, keywords_fr, audiences, thematic_areas,
      channels, requirements, costs, outputs, agent_notes_en, agent_notes_fr, guarantee_days,
    },
    errors,
  };
}

/** The values of the edit form for a snapshot (or the raw posted body when re-displaying errors). */
export function formValues(snap: Snapshot, lang: Lang, body?: Body): Record<string, string | string[]> {
  if (body) {
    const v: Record<string, string | string[]> = {};
    for (const [k, x] of Object.entries(body)) if (typeof x === 'string' || Array.isArray(x)) v[k] = x as string | string[];
    v.audiences = many(body, 'audiences');
    v.thematic_areas = many(body, 'thematic_areas');
    return v;
  }
  const v: Record<string, string | string[]> = {
    title_en: snap.title_en, title_fr: snap.title_fr, description_en: snap.description_en, description_fr: snap.description_fr,
    keywords_en: snap.keywords_en.join(', '), keywords_fr: snap.keywords_fr.join(', '),
    audiences: snap.audiences, thematic_areas: snap.thematic_areas,
    agent_notes_en: snap.agent_notes_en ?? '', agent_notes_fr: snap.agent_notes_fr ?? '',
    guarantee_days: snap.guarantee_days === null ? '' : String(snap.guarantee_days),
  };
  for (const c of snap.channels) {
    v[`ch_${c.channel}`] = 'yes';
    v[`ch_${c.channel}_url_en`] = c.url_en ?? '';
    v[`ch_${c.channel}_url_fr`] = c.url_fr ?? '';
    v[`ch_${c.channel}_phone`] = c.phone ?? '';
    v[`ch_${c.channel}_email`] = c.email ?? '';
  }
  snap.requirements.forEach((r, i) => {
    v[`req_${i}_name_en`] = r.name_en;
    v[`req_${i}_name_fr`] = r.name_fr;
  });
  snap.costs.forEach((c, i) => {
    v[`cost_${i}_amount`] = centsToInput(c.amount_cents, lang);
    v[`cost_${i}_en`] = c.description_en;
    v[`cost_${i}_fr`] = c.description_fr;
  });
  snap.outputs.forEach((o, i) => {
    v[`out_${i}_en`] = o.name_en;
    v[`out_${i}_fr`] = o.name_fr;
  });
  return v;
}

/** Number of rows to render for each repeated group. */
export function rowsFor(values: Record<string, string | string[]>) {
  const count = (prefix: string) => rowCount(values as Body, prefix);
  return {
    req: Math.min(Math.max(count('req_'), 0) + EXTRA_ROWS, MAX_ROWS + EXTRA_ROWS),
    cost: Math.min(Math.max(count('cost_'), 0) + EXTRA_ROWS, MAX_ROWS + EXTRA_ROWS),
    out: Math.min(Math.max(count('out_'), 0) + EXTRA_ROWS, MAX_ROWS + EXTRA_ROWS),
  };
}
