/**
 * Tell Us Once event types: their form inputs, the data items partners can be entitled to, and validation.
 *
 * An event's data is made of *items* (what a subscription lists as its entitled fields): e.g. `newAddress` (an
 * object of line1, line2, city, province, postalCode), `effectiveDate` (a date). Items taken from the declaring
 * client's profile (`subject.name`, `subject.birthDate`, `business.number`, ...) are added at declaration time.
 * Each notice carries ONLY the items its subscription is entitled to.
 */
import { localDate } from '../i18n/index';
import type { FieldError } from '../http/errors';
import { PROVINCE_CODES } from '../i18n/provinces';

export type InputKind = 'text' | 'date' | 'postalCode' | 'province' | 'select' | 'email' | 'phone';

export interface InputDef {
  /** Form field name (also the key inside its item). */
  name: string;
  kind: InputKind;
  required: boolean;
  maxLength?: number;
  /** For 'select': allowed values (labels are messages `notices.option.<value>`). */
  options?: string[];
}

export interface ItemDef {
  /** Entitlement key, e.g. 'newAddress'. */
  key: string;
  /** Inputs of the form that make this item; one input whose name equals the key means a scalar item. */
  inputs: InputDef[];
}

export interface EventTypeDef {
  id: EventTypeId;
  /** Path segment of the form (EN / FR). */
  slug: { en: string; fr: string };
  /** Who may declare it. */
  audience: 'person' | 'business';
  items: ItemDef[];
  /** Items taken from the declaring client's profile. */
  profileItems: string[];
}

export const EVENT_TYPES = [
  'change-of-address',
  'change-of-name',
  'change-of-marital-status',
  'birth-of-a-child',
  'death',
  'change-of-contact-details',
  'business-change-of-address',
] as const;
export type EventTypeId = (typeof EVENT_TYPES)[number];

/** Province and territory codes (one list for the platform: src/i18n/provinces.ts). */
export const PROVINCES: readonly string[] = PROVINCE_CODES;

const address = (key: string, required = true): ItemDef => ({
  key,
  inputs: [
    { name: 'line1', kind: 'text', required, maxLength: 120 },
    { name: 'line2', kind: 'text', required: false, maxLength: 120 },
    { name: 'city', kind: 'text', required, maxLength: 80 },
    { name: 'province', kind: 'province', required },
    { name: 'postalCode', kind: 'postalCode', required },
  ],
});
const date = (key: string, required = true): ItemDef => ({ key, inputs: [{ name: key, kind: 'date', required }] });
const text = (key: string, required = true, maxLength = 100): ItemDef => ({ key, inputs: [{ name: key, kind: 'text', required, maxLength }] });
const select = (key: string, options: string[], required = true): ItemDef => ({ key, inputs: [{ name: key, kind: 'select', required, options }] });
const personName = (key: string, required = true): ItemDef => ({
  key,
  inputs: [
    { name: 'givenName', kind: 'text', required, maxLength: 100 },
    { name: 'familyName', kind: 'text', required, maxLength: 100 },
  ],
});

export const eventTypes: Record<EventTypeId, EventTypeDef> = {
  'change-of-address': {
    id: 'change-of-address',
    slug: { en: 'change-of-address', fr: 'changement-d-adresse' },
    audience: 'person',
    items: [address('newAddress'), address('previousAddress', false), date('effectiveDate')],
    profileItems: ['subject.name', 'subject.birthDate'],
  },
  'change-of-name': {
    id: 'change-of-name',
    slug: { en: 'change-of-name', fr: 'changement-de-nom' },
    audience: 'person',
    items: [personName('newName'), select('reason', ['marriage', 'divorce', 'court-order', 'other']), date('effectiveDate')],
    profileItems: ['subject.name', 'subject.birthDate'],
  },
  'change-of-marital-status': {
    id: 'change-of-marital-status',
    slug: { en: 'change-of-marital-status', fr: 'changement-d-etat-civil' },
    audience: 'person',
    items: [select('maritalStatus', ['single', 'married', 'common-law', 'separated', 'divorced', 'widowed']), personName('spouseName', false), date('effectiveDate')],
    profileItems: ['subject.name', 'subject.birthDate'],
  },
  'birth-of-a-child': {
    id: 'birth-of-a-child',
    slug: { en: 'birth-of-a-child', fr: 'naissance-d-un-enfant' },
    audience: 'person',
    items: [personName('childName'), date('childBirthDate'), text('birthPlace', true, 80)],
    profileItems: ['subject.name', 'subject.birthDate'],
  },
  death: {
    id: 'death',
    slug: { en: 'death', fr: 'deces' },
    audience: 'person',
    items: [
      personName('deceasedName'),
      date('deceasedBirthDate'),
      date('dateOfDeath'),
      text('placeOfDeath', true, 80),
      select('declarantRole', ['next-of-kin', 'executor']),
    ],
    profileItems: ['subject.name', 'subject.email', 'subject.phone'],
  },
  'change-of-contact-details': {
    id: 'change-of-contact-details',
    slug: { en: 'change-of-contact-details', fr: 'changement-des-coordonnees' },
    audience: 'person',
    items: [
      { key: 'newEmail', inputs: [{ name: 'newEmail', kind: 'email', required: false, maxLength: 200 }] },
      { key: 'newPhone', inputs: [{ name: 'newPhone', kind: 'phone', required: false, maxLength: 30 }] },
      date('effectiveDate'),
    ],
    profileItems: ['subject.name', 'subject.birthDate'],
  },
  'business-change-of-address': {
    id: 'business-change-of-address',
    slug: { en: 'business-change-of-address', fr: 'changement-d-adresse-d-entreprise' },
    audience: 'business',
    items: [address('newAddress'), date('effectiveDate')],
    profileItems: ['business.name', 'business.number'],
  },
};

export function isEventType(v: unknown): v is EventTypeId {
  return typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v);
}

export function eventBySlug(slug: string): EventTypeDef | undefined {
  return Object.values(eventTypes).find((e) => e.slug.en === slug || e.slug.fr === slug);
}

/** Every entitlement key of an event type (form items and profile items). */
export function itemKeys(e: EventTypeDef): string[] {
  return [...e.profileItems, ...e.items.map((i) => i.key)];
}

/** Every entitlement key of every event type (for subscription validation). */
export const ALL_ITEM_KEYS = [...new Set(Object.values(eventTypes).flatMap(itemKeys))].sort();

/** Flat form input name: scalar items use their key, object items `<item>.<input>`. */
export function inputName(item: ItemDef, input: InputDef): string {
  return item.inputs.length === 1 && input.name === item.key ? item.key : `${item.key}.${input.name}`;
}

export type EventData = Record<string, string | Record<string, string>>;

const POSTAL_RE = /^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$/i;
const EMAIL_RE = /^[^\s@<>]{1,64}@[^\s@<>]{1,190}\.[A-Za-z]{2,}$/;
const PHONE_RE = /^\+?[0-9 ().-]{7,25}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
// letters (any script), spaces, apostrophes, hyphens, periods, digits for addresses; no control characters or markup
const TEXT_RE = /^[^\u0000-\u001f\u007f<>]*$/;

function validDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}


export function normalisePostalCode(s: string): string {
  const c = s.replace(/\s+/g, '').toUpperCase();
  return `${c.slice(0, 3)} ${c.slice(3)}`;
}

/**
 * Validate raw input (a flat object of form names, e.g. { 'newAddress.city': 'Ottawa', effectiveDate: '2026-11-01' },
 * or the nested form { newAddress: { city } }) against an event type. Returns the normalised data or field errors.
 * Unknown fields are errors (nothing unexpected is stored).
 */
export function validateEventData(e: EventTypeDef, raw: unknown, now = new Date()): { data: EventData; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const data: EventData = {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { data, errors: [{ field: 'data', code: 'invalid' }] };
  // flatten nested objects one level
  const flat: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) flat[`${k}.${k2}`] = v2;
    else flat[k] = v;
  }
  const known = new Set<string>();
  const todayStr = localDate(now); // dates the client types are Eastern local dates
  for (const item of e.items) {
    const obj: Record<string, string> = {};
    for (const input of item.inputs) {
      const name = inputName(item, input);
      known.add(name);
      const v = flat[name];
      if (v !== undefined && v !== null && typeof v !== 'string') {
        errors.push({ field: name, code: 'invalid' });
        continue;
      }
      const s = (v ?? '').trim();
      if (!s) {
        if (input.required) errors.push({ field: name, code: 'required' });
        continue;
      }
      const max = input.maxLength ?? 100;
      if (s.length > max) {
        errors.push({ field: name, code: 'tooLong' });
        continue;
      }
      if (!TEXT_RE.test(s)) {
        errors.push({ field: name, code: 'invalid' });
        continue;
      }
      let value = s;
      switch (input.kind) {
        case 'postalCode':
          if (!POSTAL_RE.test(s)) errors.push({ field: name, code: 'postalCode' });
          else value = normalisePostalCode(s);
          break;
        case 'province':
          if (!(PROVINCES as readonly string[]).includes(s.toUpperCase())) errors.push({ field: name, code: 'notAllowed' });
          else value = s.toUpperCase();
          break;
        case 'select':
          if (!input.options!.includes(s)) errors.push({ field: name, code: 'notAllowed' });
          break;
        case 'email':
          if (!EMAIL_RE.test(s)) errors.push({ field: name, code: 'email' });
          else value = s.toLowerCase();
          break;
        case 'phone':
          if (!PHONE_RE.test(s) || s.replace(/\D/g, '').length < 7) errors.push({ field: name, code: 'phone' });
          break;
        case 'date':
          if (!validDate(s)) errors.push({ field: name, code: 'date' });
          else if (s < '1900-01-01') errors.push({ field: name, code: 'dateTooOld' });
          break;
        default:
          break;
      }
      if (item.inputs.length === 1 && input.name === item.key) data[item.key] = value;
      else obj[input.name] = value;
    }
    if (Object.keys(obj).length) data[item.key] = obj;
  }
  for (const k of Object.keys(flat)) if (!known.has(k)) errors.push({ field: k, code: 'unknown' });

  // cross-field rules (only when the fields themselves are valid)
  const bad = new Set(errors.map((x) => x.field));
  const dateOk = (f: string) => typeof data[f] === 'string' && !bad.has(f);
  const notFuture = (f: string) => {
    if (dateOk(f) && (data[f] as string) > todayStr) errors.push({ field: f, code: 'dateInFuture' });
  };
  switch (e.id) {
    case 'birth-of-a-child':
      notFuture('childBirthDate');
      break;
    case 'death':
      notFuture('dateOfDeath');
      notFuture('deceasedBirthDate');
      if (dateOk('dateOfDeath') && dateOk('deceasedBirthDate') && (data.dateOfDeath as string) < (data.deceasedBirthDate as string)) {
        errors.push({ field: 'dateOfDeath', code: 'deathBeforeBirth' });
      }
      break;
    case 'change-of-contact-details':
      if (!data.newEmail && !data.newPhone && !bad.has('newEmail') && !bad.has('newPhone')) errors.push({ field: 'newEmail', code: 'emailOrPhone' });
      break;
    case 'change-of-marital-status': {
      const needsSpouse = data.maritalStatus === 'married' || data.maritalStatus === 'common-law';
      const spouse = data.spouseName as Record<string, string> | undefined;
      if (needsSpouse && (!spouse?.givenName || !spouse?.familyName) && !bad.has('spouseName.givenName') && !bad.has('spouseName.familyName')) {
        errors.push({ field: spouse?.givenName ? 'spouseName.familyName' : 'spouseName.givenName', code: 'required' });
      }
      break;
    }
    case 'change-of-address': {
      const prev = data.previousAddress as Record<string, string> | undefined;
      if (prev && Object.keys(prev).length && (!prev.line1 || !prev.city || !prev.province || !prev.postalCode)) {
        for (const f of ['line1', 'city', 'province', 'postalCode']) if (!prev[f] && !bad.has(`previousAddress.${f}`)) errors.push({ field: `previousAddress.${f}`, code: 'required' });
      }
      const next = data.newAddress as Record<string, string> | undefined;
      if (prev && next && prev.line1 && prev.line1 === next.line1 && prev.postalCode === next.postalCode && prev.city === next.city) {
        errors.push({ field: 'newAddress.line1', code: 'sameAddress' });
      }
      break;
    }
    default:
      break;
  }
  // effective dates: a change may be announced up to a year ahead, and not be older than a year
  if (dateOk('effectiveDate')) {
    const eff = data.effectiveDate as string;
    const max = localDate(new Date(now.getTime() + 366 * 86400_000));
    const min = localDate(new Date(now.getTime() - 366 * 86400_000));
    if (eff > max) errors.push({ field: 'effectiveDate', code: 'dateTooFar' });
    if (eff < min) errors.push({ field: 'effectiveDate', code: 'dateTooOld' });
  }
  return { data, errors };
}

/** Flatten event data back to form names (to refill a form or carry it in hidden inputs). */
export function flattenData(data: EventData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v && typeof v === 'object') for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = v2;
    else out[k] = v as string;
  }
  return out;
}
