/**
 * Open311 GeoReport v2 (JSON) over the catalogue and cases, so that existing 311 apps can connect.
 *   GET  /open311/v2/services.json[?jurisdiction_id=]      service list
 *   GET  /open311/v2/services/{service_code}.json           service definition
 *   POST /open311/v2/requests.json                          create (form-encoded, api_key required)
 *   GET  /open311/v2/requests.json?api_key=...              list (the key's organisation's requests)
 *   GET  /open311/v2/requests/{service_request_id}.json     one request
 * Errors are arrays of { code, description } with the HTTP status in `code`, as the specification shows.
 * service_code = catalogue service id; service_request_id = case reference.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import crypto from 'node:crypto';
import type { AppDeps } from '../http/deps';
import { describeError } from '../http/errors';
import { t, type Lang } from '../i18n/index';
import { casesMailer, sha256 } from './integration';
import { sendNotifications } from './notify';
import { createCase, OPEN_STATUSES, type Ctx } from './service';
import { latestForm, type FieldType, type FormDefinition } from './forms';
import { caseOwners } from './owners';

/** Form field types as Open311 attribute datatypes. */
const OPEN311_TYPES: Record<FieldType, string> = {
  text: 'string',
  textarea: 'text',
  email: 'string',
  number: 'number',
  date: 'datetime',
  radio: 'singlevaluelist',
  select: 'singlevaluelist',
  checkboxes: 'multivaluelist',
};

const tags = ['open311'];

class Open311Error extends Error {
  constructor(
    readonly status: number,
    readonly key: string,
    readonly params?: Record<string, string>,
  ) {
    super(key);
  }
}

function send(reply: FastifyReply, lang: Lang, err: unknown) {
  if (err instanceof Open311Error) {
    return reply.status(err.status).send([{ code: err.status, description: t(lang, `cases.open311.${err.key}`, err.params) }]);
  }
  const d = describeError(err as Error, lang);
  if (d.status >= 500) reply.log.error({ err }, 'open311 failed');
  const body = d.details?.length ? d.details.map((x) => ({ code: d.status, description: `${x.field}: ${x.message}` })) : [{ code: d.status, description: d.message }];
  return reply.status(d.status).send(body);
}

function wrap(handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return await handler(request, reply);
    } catch (err) {
      return send(reply, request.lang, err);
    }
  };
}

function str(v: unknown, max = 2000): string | undefined {
  if (Array.isArray(v)) v = v[0];
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (!s) return undefined;
  if (s.length > max) throw new Open311Error(400, 'tooLong');
  return s;
}

function jsonName(file: string): string {
  if (!file.endsWith('.json')) throw new Open311Error(404, 'formatNotSupported');
  return file.slice(0, -5);
}

const CLOSED = ['decided', 'closed', 'withdrawn'];

/** 'YYYY-MM-DD' → that day's 23:59:59 in America/Toronto as a w3 date-time with the right offset (EST or EDT). */
export function endOfDayToronto(day: string): string {
  const noon = new Date(`${day}T12:00:00Z`);
  const name = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Toronto', timeZoneName: 'shortOffset' }).formatToParts(noon).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT-5';
  const m = /GMT([+-])(\d{1,2})(?::(\d{2}))?/.exec(name);
  const offset = m ? `${m[1]}${m[2].padStart(2, '0')}:${m[3] ?? '00'}` : '-05:00';
  return `${day}T23:59:59${offset}`;
}

export async function open311Routes(app: FastifyInstance, deps: AppDeps, ctx: Ctx) {
  const { db } = deps;
  const own = caseOwners(db);

  /**
   * The organisation of the Open311 key. The key travels in a header (`X-Api-Key`, or `Authorization: Bearer`), or,
   * for POST as GeoReport v2 defines it, in the form body; never in the query string (GeoReport v2 does not define
   * `api_key` for the GET calls, and a URL is written in request logs), so a query `api_key` is ignored.
   */
  async function keyOrg(request: FastifyRequest): Promise<string> {
    const b = (request.body ?? {}) as Record<string, unknown>;
    const auth = request.headers.authorization;
    const bearer = typeof auth === 'string' && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
    const key = str(request.headers['x-api-key'], 200) ?? str(bearer, 200) ?? (request.method === 'POST' ? str(b.api_key, 200) : undefined);
    if (!key) throw new Open311Error(403, 'apiKeyRequired');
    const row = await db.selectFrom('open311_keys').select(['org_id', 'revoked_at']).where('key_hash', '=', sha256(key)).executeTakeFirst();
    if (!row || row.revoked_at) throw new Open311Error(403, 'apiKeyInvalid');
    return row.org_id;
  }

  function langOf(request: FastifyRequest): Lang {
    return request.lang;
  }

  async function serviceRows(jurisdiction?: string, code?: string) {
    let q = db
      .selectFrom('services')
      .innerJoin('organisations', 'organisations.id', 'services.owner_org_id')
      .select([
        'services.id',
        'services.title_en',
        'services.title_fr',
        'services.description_en',
        'services.description_fr',
        'services.keywords_en',
        'services.keywords_fr',
        'services.thematic_areas',
        'organisations.name_en as org_en',
        'organisations.name_fr as org_fr',
        'organisations.jurisdiction',
      ])
      .where('services.status', '=', 'published');
    if (code) q = q.where('services.id', '=', code);
    else if (jurisdiction) q = q.where((eb) => eb.or([eb('organisations.jurisdiction', '=', jurisdiction), eb('organisations.jurisdiction', 'like', `${jurisdiction.replace(/[%_\\]/g, '')}-%`)]));
    else q = q.where('organisations.level', '=', 'municipal');
    return q.orderBy('services.id').limit(2000).execute();
  }

  app.get('/open311/v2/services.json', { config: own.none, schema: { tags, summary: 'Open311: service list (municipal services unless jurisdiction_id is given)' } }, wrap(async (request) => {
    const lang = langOf(request);
    const q = request.query as Record<string, unknown>;
    const rows = await serviceRows(str(q.jurisdiction_id, 100));
    return rows.map((s) => ({
      service_code: s.id,
      service_name: lang === 'fr' ? s.title_fr : s.title_en,
      description: lang === 'fr' ? s.description_fr : s.description_en,
      metadata: true,
      type: 'realtime',
      keywords: (lang === 'fr' ? s.keywords_fr : s.keywords_en).join(','),
      group: lang === 'fr' ? s.org_fr : s.org_en,
    }));
  }));

  app.get('/open311/v2/services/:file', { config: own.none, schema: { tags, summary: 'Open311: service definition ({service_code}.json)' } }, wrap(async (request) => {
    const lang = langOf(request);
    const code = jsonName((request.params as { file: string }).file);
    const [s] = await serviceRows(undefined, code);
    if (!s) throw new Open311Error(404, 'serviceNotFound', { code });
    // Every service takes a free-text description; structured attributes come from the service's online form.
    const form = await latestForm(db, s.id);
    const formAttributes = form
      ? (form.definition as FormDefinition).pages
          .flatMap((p) => p.fields)
          .map((f, i) => ({
            variable: true,
            code: f.name,
            datatype: OPEN311_TYPES[f.type],
            required: Boolean(f.required) && !f.condition,
            datatype_description: f.help ? f.help[lang] : '',
            order: i + 2,
            description: f.label[lang],
            ...(f.options ? { values: f.options.map((o) => ({ key: o.value, name: o.label[lang] })) } : {}),
          }))
      : [];
    return {
      service_code: s.id,
      attributes: [
        {
          variable: true,
          code: 'contact_preference',
          datatype: 'singlevaluelist',
          required: false,
          datatype_description: t(lang, 'cases.open311.attr.contact.help'),
          order: 1,
          description: t(lang, 'cases.open311.attr.contact'),
          values: [
            { key: 'email', name: t(lang, 'cases.open311.attr.contact.email') },
            { key: 'none', name: t(lang, 'cases.open311.attr.contact.none') },
          ],
        },
        ...formAttributes,
      ],
    };
  }));

  app.post('/open311/v2/requests.json', { config: { rateLimitPolicy: 'partnerFeed', ...own.partnerKey, csrf: false }, schema: { tags, summary: 'Open311: create a service request (form-encoded, api_key)' } }, wrap(async (request, reply) => {
    const orgId = await keyOrg(request);
    const b = (request.body ?? {}) as Record<string, unknown>;
    const serviceCode = str(b.service_code, 100);
    if (!serviceCode) throw new Open311Error(400, 'serviceCodeRequired');
    const svc = await db
      .selectFrom('services')
      .select(['id', 'owner_org_id', 'status'])
      .where('id', '=', serviceCode)
      .executeTakeFirst();
    if (!svc || svc.status !== 'published') throw new Open311Error(404, 'serviceNotFound', { code: serviceCode });
    const delivers = await db.selectFrom('service_delivering_orgs').select('org_id').where('service_id', '=', svc.id).where('org_id', '=', orgId).executeTakeFirst();
    if (svc.owner_org_id !== orgId && !delivers) throw new Open311Error(403, 'serviceNotForKey');
    const latS = str(b.lat, 40);
    const lonS = str(b.long, 40);
    const address = str(b.address_string, 500) ?? str(b.address_id, 200);
    let lat: number | null = null;
    let lon: number | null = null;
    if (latS !== undefined || lonS !== undefined) {
      lat = Number(latS);
      lon = Number(lonS);
      if (latS === undefined || lonS === undefined || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
        throw new Open311Error(400, 'locationInvalid');
      }
    }
    if (lat === null && !address) throw new Open311Error(400, 'locationRequired');
    const email = str(b.email, 254);
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new Open311Error(400, 'emailInvalid');
    const description = str(b.description, 4000) ?? '';
    // attribute[code]=value (form-encoded keys are flat: "attribute[code]" or "attribute[code][]" for lists).
    const attrs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(b)) {
      const m = /^attribute\[([^\]]{1,60})\](\[\])?$/.exec(k);
      if (m) attrs[m[1]] = m[2] ? (Array.isArray(v) ? v : [v]) : v;
    }
    if (b.attribute && typeof b.attribute === 'object') Object.assign(attrs, b.attribute as Record<string, unknown>);
    const contactPref = str(attrs.contact_preference, 20);
    const firstName = str(b.first_name, 100) ?? null;
    const lastName = str(b.last_name, 100) ?? null;
    const phone = str(b.phone, 40) ?? null;

    // The reporter becomes an unverified contact (never attached to a signed-in client's file by e-mail alone).
    let clientId: string | undefined;
    if (email) {
      const c = await db.selectFrom('clients').select('id').where('email', '=', email).where('oidc_subject', 'is', null).orderBy('created_at').executeTakeFirst();
      clientId = c?.id;
    }
    if (!clientId) {
      clientId = crypto.randomUUID();
      await db
        .insertInto('clients')
        .values({
          id: clientId,
          kind: 'person',
          oidc_subject: null,
          given_name: firstName,
          family_name: lastName,
          business_name: null,
          business_number: null,
          birth_date: null,
          email: email ?? null,
          phone,
          preferred_lang: request.lang,
          contact_preferences: JSON.stringify({ email: contactPref !== 'none' }),
          accessibility_needs: null,
        })
        .execute();
    }
    // Posted attributes (attribute[code]=value) are kept with the case, as strings (at most 50, 500 characters each).
    const attributes: Record<string, string | string[]> = {};
    {
      for (const [k, v] of Object.entries(attrs).slice(0, 50)) {
        if (!/^[a-z][a-z0-9_]{0,49}$/.test(k)) continue;
        const vals = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string').map((x) => x.slice(0, 500));
        if (vals.length) attributes[k] = Array.isArray(v) ? vals : vals[0];
      }
    }
    const r = await createCase(ctx, { kind: 'partner', orgId, clientId }, {
      serviceId: svc.id,
      summary: description || t(request.lang, 'cases.open311.noDescription'),
      latitude: lat,
      longitude: lon,
      addressString: address ?? null,
      contactEmail: email ?? null,
    });
    if (Object.keys(attributes).length) await db.updateTable('cases').set({ form_data: JSON.stringify({ open311_attributes: attributes }) }).where('id', '=', r.id).execute();
    if (r.notificationIds.length) await sendNotifications(db, casesMailer(app.log), r.notificationIds).catch(() => undefined);
    const c = await db.selectFrom('cases').select(['reference']).where('id', '=', r.id).executeTakeFirstOrThrow();
    return reply.status(200).send([{ service_request_id: c.reference, service_notice: t(request.lang, 'cases.open311.notice'), account_id: null }]);
  }));

  async function requestRows(orgId: string, f: { ids?: string[]; serviceCodes?: string[]; start?: Date; end?: Date; status?: 'open' | 'closed' }) {
    let q = db
      .selectFrom('cases')
      .innerJoin('services', 'services.id', 'cases.service_id')
      .innerJoin('organisations', 'organisations.id', 'cases.responsible_org_id')
      .select([
        'cases.reference',
        'cases.status',
        'cases.decision',
        'cases.service_id',
        'cases.summary',
        'cases.submitted_at',
        'cases.updated_at',
        'cases.due_date',
        'cases.address_string',
        'cases.latitude',
        'cases.longitude',
        'services.title_en',
        'services.title_fr',
        'organisations.name_en',
        'organisations.name_fr',
      ])
      // Only public Open311 service requests (cases opened through Open311, created_by_kind 'partner'), of the key's
      // organisation: never a case a client opened privately on the portal, nor one referred to the organisation.
      .where('cases.created_by_kind', '=', 'partner')
      .where((eb) => eb.or([eb('cases.responsible_org_id', '=', orgId), eb('cases.created_by_id', '=', orgId)]));
    if (f.ids?.length) q = q.where('cases.reference', 'in', f.ids);
    else {
      q = q.where('cases.submitted_at', '>=', f.start ?? new Date(Date.now() - 90 * 86_400_000));
      if (f.end) q = q.where('cases.submitted_at', '<=', f.end);
    }
    if (f.serviceCodes?.length) q = q.where('cases.service_id', 'in', f.serviceCodes);
    if (f.status === 'open') q = q.where('cases.status', 'in', OPEN_STATUSES);
    if (f.status === 'closed') q = q.where('cases.status', 'in', CLOSED as any);
    return q.orderBy('cases.submitted_at', 'desc').limit(1000).execute();
  }

  const toOpen311 = (lang: Lang) => (c: Awaited<ReturnType<typeof requestRows>>[number]) => ({
    service_request_id: c.reference,
    status: CLOSED.includes(c.status) ? 'closed' : 'open',
    status_notes: c.decision ?? t(lang, `cases.status.${c.status}`),
    service_name: lang === 'fr' ? c.title_fr : c.title_en,
    service_code: c.service_id,
    description: c.summary,
    agency_responsible: lang === 'fr' ? c.name_fr : c.name_en,
    service_notice: null,
    requested_datetime: c.submitted_at.toISOString(),
    updated_datetime: c.updated_at.toISOString(),
    expected_datetime: c.due_date ? endOfDayToronto(c.due_date) : null,
    address: c.address_string,
    address_id: null,
    zipcode: null,
    lat: c.latitude,
    long: c.longitude,
    media_url: null,
  });

  const parseDate = (v: unknown, field: string): Date | undefined => {
    const s = str(v, 40);
    if (!s) return undefined;
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) throw new Open311Error(400, 'dateInvalid', { field });
    return d;
  };

  app.get('/open311/v2/requests.json', { config: { ...own.partnerKey, rateLimitPolicy: 'partnerFeed' }, schema: { tags, summary: 'Open311: list requests (api_key; filters service_request_id, service_code, start_date, end_date, status)' } }, wrap(async (request) => {
    const orgId = await keyOrg(request);
    const q = request.query as Record<string, unknown>;
    const status = str(q.status, 10);
    if (status && status !== 'open' && status !== 'closed') throw new Open311Error(400, 'statusInvalid');
    const rows = await requestRows(orgId, {
      ids: str(q.service_request_id, 2000)?.split(',').map((s) => s.trim()).filter(Boolean).slice(0, 100),
      serviceCodes: str(q.service_code, 2000)?.split(',').map((s) => s.trim()).filter(Boolean).slice(0, 100),
      start: parseDate(q.start_date, 'start_date'),
      end: parseDate(q.end_date, 'end_date'),
      status: status as 'open' | 'closed' | undefined,
    });
    return rows.map(toOpen311(request.lang));
  }));

  app.get('/open311/v2/requests/:file', { config: { ...own.partnerKey, rateLimitPolicy: 'partnerFeed' }, schema: { tags, summary: 'Open311: one request ({service_request_id}.json, api_key)' } }, wrap(async (request) => {
    const orgId = await keyOrg(request);
    const id = jsonName((request.params as { file: string }).file);
    const rows = await requestRows(orgId, { ids: [id] });
    if (!rows.length) throw new Open311Error(404, 'requestNotFound', { id });
    return rows.map(toOpen311(request.lang));
  }));

  // Formats other than JSON are not offered.
  app.get('/open311/v2/services.xml', { config: own.none, schema: { hide: true } }, async (request, reply) => send(reply, request.lang, new Open311Error(400, 'formatNotSupported')));
}
