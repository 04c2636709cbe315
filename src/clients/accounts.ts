/**
 * Client accounts: individuals and businesses, their profile, address history and representatives.
 * Validation returns field codes (FieldError) so that pages and the API can show one clear message per bad field;
 * nothing is written unless everything is valid.
 */
import crypto from 'node:crypto';
import type { Database } from '../db/database';
import { AppError, type FieldError } from '../http/errors';
import type { ClientAddressesTable, ClientsTable } from './tables';
import { PROVINCE_CODES } from '../i18n/provinces';
import { localDate } from '../i18n/index';

export type ClientRow = Omit<ClientsTable, 'created_at' | 'updated_at' | 'contact_preferences'> & {
  contact_preferences: ContactPreferences;
  created_at: Date;
  updated_at: Date;
};
export type AddressRow = Omit<ClientAddressesTable, 'id' | 'created_at'> & { id: number; created_at: Date };
export interface ContactPreferences {
  email?: boolean;
  sms?: boolean;
  mail?: boolean;
}

/** Province and territory codes (one list for the platform: src/i18n/provinces.ts). */
export const PROVINCES: readonly string[] = PROVINCE_CODES;
export const POSTAL_CODE_RE = /^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$/i;
const EMAIL_RE = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]{2,}$/;

/** 'k1a0b1' → 'K1A 0B1'; null when it is not a Canadian postal code. */
export function normalisePostalCode(v: string | null | undefined): string | null {
  const s = (v ?? '').trim().toUpperCase().replace(/\s+/g, '');
  if (!POSTAL_CODE_RE.test(s)) return null;
  return `${s.slice(0, 3)} ${s.slice(3)}`;
}

/** A real calendar date 'YYYY-MM-DD' (rejects 2023-02-30). */
export function isIsoDate(v: unknown): v is string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** Validate a date that must not be in the future; pushes 'invalid', 'future' or 'tooEarly'. */
export function checkPastDate(field: string, v: string, errors: FieldError[], min = '1900-01-01') {
  if (!isIsoDate(v)) errors.push({ field, code: 'invalid' });
  else if (v > localDate()) errors.push({ field, code: 'future' });
  else if (v < min) errors.push({ field, code: 'tooEarly' });
}

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

function text(field: string, v: unknown, errors: FieldError[], opts: { required?: boolean; max?: number } = {}): string | null {
  if (v !== undefined && v !== null && typeof v !== 'string') {
    errors.push({ field, code: 'invalid' });
    return null;
  }
  const s = str(v);
  if (!s) {
    if (opts.required) errors.push({ field, code: 'required' });
    return null;
  }
  if (s.length > (opts.max ?? 200)) errors.push({ field, code: 'tooLong' });
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s)) errors.push({ field, code: 'invalid' });
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses

export interface AddressInput {
  line1?: unknown;
  line2?: unknown;
  city?: unknown;
  province?: unknown;
  postalCode?: unknown;
  /** 'YYYY-MM-DD', default today; not in the future. */
  validFrom?: unknown;
}

export interface ValidAddress {
  line1: string;
  line2: string | null;
  city: string;
  province: string;
  postal_code: string;
  country: 'CA';
  valid_from: string;
}

/** Validate a Canadian address. Field names in errors are prefixed (e.g. 'address.postalCode'). */
export function validateAddress(input: AddressInput, prefix = ''): { value?: ValidAddress; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const p = (f: string) => `${prefix}${f}`;
  const line1 = text(p('line1'), input.line1, errors, { required: true, max: 200 });
  const line2 = text(p('line2'), input.line2, errors, { max: 200 });
  const city = text(p('city'), input.city, errors, { required: true, max: 100 });
  const province = str(input.province).toUpperCase();
  if (!province) errors.push({ field: p('province'), code: 'required' });
  else if (!(PROVINCES as readonly string[]).includes(province)) errors.push({ field: p('province'), code: 'notAllowed' });
  const rawPc = str(input.postalCode);
  const postal = normalisePostalCode(rawPc);
  if (!rawPc) errors.push({ field: p('postalCode'), code: 'required' });
  else if (!postal) errors.push({ field: p('postalCode'), code: 'postalCode' });
  // a postal code's first letter belongs to a province (A: NL, B: NS, ... X: NT/NU, Y: YT)
  else if (province && PROVINCE_BY_LETTER[postal[0]] && !PROVINCE_BY_LETTER[postal[0]].includes(province)) {
    errors.push({ field: p('postalCode'), code: 'postalCodeProvince' });
  }
  const validFrom = str(input.validFrom) || localDate();
  checkPastDate(p('validFrom'), validFrom, errors);
  if (errors.length) return { errors };
  return { value: { line1: line1!, line2, city: city!, province, postal_code: postal!, country: 'CA', valid_from: validFrom }, errors };
}

const PROVINCE_BY_LETTER: Record<string, string[]> = {
  A: ['NL'], B: ['NS'], C: ['PE'], E: ['NB'], G: ['QC'], H: ['QC'], J: ['QC'], K: ['ON'], L: ['ON'], M: ['ON'], N: ['ON'], P: ['ON'],
  R: ['MB'], S: ['SK'], T: ['AB'], V: ['BC'], X: ['NT', 'NU'], Y: ['YT'],
};

/** The current address (valid_to is null), if any. */
export async function currentAddress(db: Database, clientId: string): Promise<AddressRow | undefined> {
  return (await db
    .selectFrom('client_addresses')
    .selectAll()
    .where('client_id', '=', clientId)
    .where('valid_to', 'is', null)
    .orderBy('valid_from', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst()) as AddressRow | undefined;
}

/** Every address, current first then by date (history). */
export async function addressHistory(db: Database, clientId: string): Promise<AddressRow[]> {
  return (await db
    .selectFrom('client_addresses')
    .selectAll()
    .where('client_id', '=', clientId)
    .orderBy('valid_from', 'desc')
    .orderBy('id', 'desc')
    .execute()) as AddressRow[];
}

/**
 * Add a new address: the current one is closed (valid_to = the new address's valid_from) in the same transaction.
 * 400 VALIDATION_ERROR with field codes on bad input (nothing written); a new address may not start before the
 * current one started (validFrom: 'beforeCurrent').
 */
export async function addAddress(db: Database, clientId: string, input: AddressInput): Promise<number> {
  const { value, errors } = validateAddress(input);
  if (!value) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, errors);
  const run = async (trx: Database) => {
    const client = await trx.selectFrom('clients').select('id').where('id', '=', clientId).forUpdate().executeTakeFirst();
    if (!client) throw new AppError(404, 'CLIENT_NOT_FOUND');
    const cur = await currentAddress(trx, clientId);
    if (cur && cur.valid_from > value.valid_from) {
      throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'validFrom', code: 'beforeCurrent' }]);
    }
    if (cur) await trx.updateTable('client_addresses').set({ valid_to: value.valid_from }).where('id', '=', cur.id).execute();
    const row = await trx.insertInto('client_addresses').values({ client_id: clientId, ...value, valid_to: null }).returning('id').executeTakeFirstOrThrow();
    await trx.updateTable('clients').set({ updated_at: new Date() }).where('id', '=', clientId).execute();
    return row.id;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

// ---------------------------------------------------------------------------------------------------------------
// Profile

export interface ProfileInput {
  givenName?: unknown;
  familyName?: unknown;
  businessName?: unknown;
  businessNumber?: unknown;
  birthDate?: unknown;
  email?: unknown;
  phone?: unknown;
  preferredLang?: unknown;
  contactPreferences?: ContactPreferences | unknown;
  accessibilityNeeds?: unknown;
}

export type ValidProfile = Pick<
  ClientsTable,
  'given_name' | 'family_name' | 'business_name' | 'business_number' | 'birth_date' | 'email' | 'phone' | 'preferred_lang' | 'accessibility_needs'
> & { contact_preferences: ContactPreferences };

/** Validate the editable profile of a person or a business. */
export function validateProfile(kind: 'person' | 'business', input: ProfileInput): { value?: ValidProfile; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const given = text('givenName', input.givenName, errors, { required: kind === 'person', max: 100 });
  const family = text('familyName', input.familyName, errors, { required: kind === 'person', max: 100 });
  const businessName = kind === 'business' ? text('businessName', input.businessName, errors, { required: true, max: 200 }) : null;
  let bn: string | null = null;
  if (kind === 'business') {
    bn = str(input.businessNumber).replace(/\s+/g, '');
    if (!bn) errors.push({ field: 'businessNumber', code: 'required' });
    else if (!/^\d{9}$/.test(bn)) errors.push({ field: 'businessNumber', code: 'businessNumber' });
  }
  let birth: string | null = str(input.birthDate) || null;
  if (kind === 'business') birth = null;
  else if (birth) checkPastDate('birthDate', birth, errors);
  const email = text('email', input.email, errors, { max: 254 });
  if (email && !EMAIL_RE.test(email)) errors.push({ field: 'email', code: 'email' });
  const rawPhone = text('phone', input.phone, errors, { max: 30 });
  let phone: string | null = null;
  if (rawPhone) {
    const digits = rawPhone.replace(/[\s().+-]/g, '');
    if (!/^\d{10,15}$/.test(digits)) errors.push({ field: 'phone', code: 'phone' });
    else phone = rawPhone;
  }
  const lang = str(input.preferredLang) || 'en';
  if (lang !== 'en' && lang !== 'fr') errors.push({ field: 'preferredLang', code: 'notAllowed' });
  const prefsIn = (input.contactPreferences ?? {}) as Record<string, unknown>;
  const prefs: ContactPreferences = {};
  if (typeof prefsIn !== 'object' || Array.isArray(prefsIn)) errors.push({ field: 'contactPreferences', code: 'invalid' });
  else {
    for (const [k, v] of Object.entries(prefsIn)) {
      if (k !== 'email' && k !== 'sms' && k !== 'mail') errors.push({ field: `contactPreferences.${k}`, code: 'unknown' });
      else prefs[k] = v === true || v === 'true' || v === 'yes' || v === 'on';
    }
    if (prefs.email && !email) errors.push({ field: 'email', code: 'requiredForEmail' });
    if (prefs.sms && !phone) errors.push({ field: 'phone', code: 'requiredForSms' });
  }
  const a11y = text('accessibilityNeeds', input.accessibilityNeeds, errors, { max: 1000 });
  if (errors.length) return { errors };
  return {
    value: {
      given_name: given,
      family_name: family,
      business_name: businessName,
      business_number: bn,
      birth_date: birth,
      email,
      phone,
      preferred_lang: lang as 'en' | 'fr',
      contact_preferences: prefs,
      accessibility_needs: a11y,
    },
    errors,
  };
}

export interface CreateClientInput extends ProfileInput {
  kind?: 'person' | 'business';
  /** Subject at the identity provider; unique. */
  oidcSubject?: string | null;
  address?: AddressInput;
  /** Fixed id (demo data, tests); default a random UUID. */
  id?: string;
}

/**
 * Create a client (person by default) with an optional first address, in one transaction. Returns the id.
 * 400 VALIDATION_ERROR on bad input (address fields prefixed 'address.'), 409 CLIENT_EXISTS on a taken subject.
 */
export async function createClient(db: Database, input: CreateClientInput): Promise<string> {
  const kind = input.kind ?? 'person';
  if (kind !== 'person' && kind !== 'business') throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'kind', code: 'notAllowed' }]);
  const { value, errors } = validateProfile(kind, input);
  const addr = input.address ? validateAddress(input.address, 'address.') : undefined;
  const all = [...errors, ...(addr?.errors ?? [])];
  if (!value || all.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, all);
  const id = input.id ?? crypto.randomUUID();
  const run = async (trx: Database) => {
    if (input.oidcSubject) {
      const taken = await trx.selectFrom('clients').select('id').where('oidc_subject', '=', input.oidcSubject).executeTakeFirst();
      if (taken) throw new AppError(409, 'CLIENT_EXISTS');
    }
    await trx
      .insertInto('clients')
      .values({ id, kind, oidc_subject: input.oidcSubject ?? null, ...value, contact_preferences: JSON.stringify(value.contact_preferences) })
      .execute();
    if (addr?.value) await trx.insertInto('client_addresses').values({ client_id: id, ...addr.value, valid_to: null }).execute();
  };
  await (db.isTransaction ? run(db) : db.transaction().execute(run));
  return id;
}

export async function getClient(db: Database, clientId: string): Promise<ClientRow | undefined> {
  return (await db.selectFrom('clients').selectAll().where('id', '=', clientId).executeTakeFirst()) as ClientRow | undefined;
}

export async function getClientBySubject(db: Database, subject: string): Promise<ClientRow | undefined> {
  return (await db.selectFrom('clients').selectAll().where('oidc_subject', '=', subject).executeTakeFirst()) as ClientRow | undefined;
}

/** Update the editable profile (same validation as creation); 400 with field codes, nothing written on error. */
export async function updateProfile(db: Database, clientId: string, input: ProfileInput): Promise<void> {
  const client = await getClient(db, clientId);
  if (!client) throw new AppError(404, 'CLIENT_NOT_FOUND');
  const { value, errors } = validateProfile(client.kind, input);
  if (!value) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, errors);
  await db
    .updateTable('clients')
    .set({ ...value, contact_preferences: JSON.stringify(value.contact_preferences), updated_at: new Date() })
    .where('id', '=', clientId)
    .execute();
}

/** Display name: 'Given Family' for a person, the business name for a business. */
export function displayName(c: Pick<ClientsTable, 'kind' | 'given_name' | 'family_name' | 'business_name'>): string {
  if (c.kind === 'business') return c.business_name ?? '';
  return [c.given_name, c.family_name].filter(Boolean).join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Businesses and the people who may act for them

export const REPRESENTATIVE_ROLES = ['owner', 'director', 'employee', 'accountant'] as const;

export async function addRepresentative(db: Database, businessId: string, personId: string, role: string): Promise<void> {
  if (!(REPRESENTATIVE_ROLES as readonly string[]).includes(role)) {
    throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'role', code: 'notAllowed' }]);
  }
  const [b, p] = await Promise.all([getClient(db, businessId), getClient(db, personId)]);
  if (!b || b.kind !== 'business' || !p || p.kind !== 'person') throw new AppError(404, 'CLIENT_NOT_FOUND');
  await db
    .insertInto('business_representatives')
    .values({ business_id: businessId, person_id: personId, role })
    .onConflict((oc) => oc.columns(['business_id', 'person_id']).doUpdateSet({ role }))
    .execute();
}

/** Businesses a person may act for. */
export async function businessesFor(db: Database, personId: string) {
  return db
    .selectFrom('business_representatives')
    .innerJoin('clients', 'clients.id', 'business_representatives.business_id')
    .select(['clients.id', 'clients.business_name', 'clients.business_number', 'business_representatives.role'])
    .where('business_representatives.person_id', '=', personId)
    .orderBy('clients.business_name')
    .execute();
}

/** People who may act for a business. */
export async function representativesOf(db: Database, businessId: string) {
  return db
    .selectFrom('business_representatives')
    .innerJoin('clients', 'clients.id', 'business_representatives.person_id')
    .select(['clients.id', 'clients.given_name', 'clients.family_name', 'business_representatives.role'])
    .where('business_representatives.business_id', '=', businessId)
    .orderBy('clients.family_name')
    .execute();
}

/** True when `personId` is the client or may act for the business `clientId`. */
export async function mayActFor(db: Database, personId: string, clientId: string): Promise<boolean> {
  if (personId === clientId) return true;
  const r = await db
    .selectFrom('business_representatives')
    .select('role')
    .where('business_id', '=', clientId)
    .where('person_id', '=', personId)
    .executeTakeFirst();
  return Boolean(r);
}

/** What a representative may see and do for a business: the business and the representative's role. */
export interface Representation {
  business: ClientRow;
  role: string;
  person: { id: string; name: string };
}

/**
 * The business `businessId` as seen by the person `personId` acting for it. 404 CLIENT_NOT_FOUND, exactly as for a
 * business that does not exist, when the person is not one of its representatives (no existence leak).
 */
export async function representedBusiness(db: Database, personId: string, businessId: string): Promise<Representation> {
  const row = await db
    .selectFrom('business_representatives as r')
    .innerJoin('clients as p', 'p.id', 'r.person_id')
    .select(['r.role', 'p.given_name', 'p.family_name'])
    .where('r.business_id', '=', businessId)
    .where('r.person_id', '=', personId)
    .executeTakeFirst();
  const business = row ? await getClient(db, businessId) : undefined;
  if (!row || !business || business.kind !== 'business') throw new AppError(404, 'CLIENT_NOT_FOUND');
  return { business, role: row.role, person: { id: personId, name: [row.given_name, row.family_name].filter(Boolean).join(' ') } };
}

/** Purpose recorded in a business's access log when one of its representatives reads its file or acts for it. */
export const REPRESENTATIVE_PURPOSE = 'business-representative';

/** The legal basis recorded for a representative's access: 'representative:<role>'. */
export const representativeBasis = (role: string) => `representative:${role}`;
