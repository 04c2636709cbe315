/**
 * JSON API of the agreements capability (tag `agreements`, staff session; the same functions as the pages).
 * Creating calls (POST /api/v1/agreements, …/amendments, …/fees) take an Idempotency-Key (idempotency.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError } from '../http/errors';
import { requireStaff } from '../http/session';
import { Nullable } from '../http/schema';
import type { Database } from '../db/database';
import { isIsoDate } from './fees';
import { createFeeVersion, feeInForce, setRemittancePaused } from './fees';
import { idempotent } from './idempotency';
import { agreementOwners } from './owners';
import { own as declared, type Owner } from '../http/ownership';
import { liveSnapshot, type AgreementSnapshot } from './model';
import {
  accept, agreementFor, amend, approve, createAgreement, diffAgreementSnapshots, discardAmendment, isManager, mayUseAgreements, openVersion, recall,
  saveDraft, seesAll, sendBack, submit, terminate,
} from './service';
import type { StaffPrincipal } from '../http/session';

const ApiError = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), code: Type.String(), message: Type.Optional(Type.String()) }))) }) });
const Str = (max: number) => Type.String({ maxLength: max });
const Channels = Type.Array(Type.String({ maxLength: 20 }), { maxItems: 7 });
export const Terms = Type.Object({
  title_en: Type.Optional(Str(200)), title_fr: Type.Optional(Str(200)),
  summary_en: Type.Optional(Str(4000)), summary_fr: Type.Optional(Str(4000)),
  integration_level: Type.Optional(Type.Union([Type.Literal('complete'), Type.Literal('partial'), Type.Literal('co_location')])),
  term_start: Type.Optional(Str(10)), term_end: Type.Optional(Str(10)),
  renewal: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('annual_review'), Type.Literal('automatic')])),
  renewal_months: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, description: 'months each automatic renewal adds to the term (default 12)' })),
  master_id: Type.Optional(Nullable(Str(40))),
  refund_bearer: Type.Optional(Type.Union([Type.Literal('partner'), Type.Literal('one_stop_own_delay')])),
  show_partner_name: Type.Optional(Type.Boolean()), show_partner_logo: Type.Optional(Type.Boolean()),
  visibility_channels: Type.Optional(Channels),
  convenience_fee_legal_basis_en: Type.Optional(Nullable(Str(1000))), convenience_fee_legal_basis_fr: Type.Optional(Nullable(Str(1000))),
  hold_business_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 })),
  remittance_frequency: Type.Optional(Type.Union([Type.Literal('daily'), Type.Literal('weekly'), Type.Literal('monthly')])),
  net_invoices: Type.Optional(Type.Boolean()),
  payment_due_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 120 })),
  services: Type.Optional(Type.Array(Type.Object({ service_id: Str(200), channels: Channels }, { additionalProperties: false }), { maxItems: 200 })),
  service_levels: Type.Optional(Type.Array(Type.Object({ standard_id: Str(300), target: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }), { maxItems: 200 })),
}, { additionalProperties: false });
const CreateBody = Type.Object({ partner_org_id: Str(100), is_master: Type.Optional(Type.Boolean()), terms: Terms }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Agreement = Type.Object({
  id: Type.String(), number: Type.String(), partner_org_id: Type.String(), is_master: Type.Boolean(), status: Type.String(), version: Type.Integer(),
  decision_date: Nullable(Type.String()), decision_reference: Nullable(Type.String()),
  terms: Type.Unknown(), open_version: Nullable(Type.Object({ version: Type.Integer(), status: Type.String(), terms: Type.Unknown(), note: Nullable(Type.String()) })),
});
const Quote = Type.Object({
  feeVersionId: Type.String(), serviceId: Type.String(), channel: Type.String(), agreementId: Nullable(Type.String()),
  components: Type.Array(Type.Object({ kind: Type.String(), payeeOrgId: Type.String(), amountCents: Type.Integer() })), totalCents: Type.Integer(),
});
const FeeBody = Type.Object({
  service_id: Str(200), channel: Str(20), valid_from: Str(10), valid_to: Type.Optional(Nullable(Str(10))),
  statutory_cents: Type.Number(), statutory_payee_org_id: Type.Optional(Nullable(Str(100))),
  service_fee: Type.Optional(Nullable(Type.Object({ basis: Type.Union([Type.Literal('none'), Type.Literal('fixed'), Type.Literal('bps')]), value: Type.Number(), mode: Type.Union([Type.Literal('included'), Type.Literal('on_top')]) }, { additionalProperties: false }))),
  card_recovery_cents: Type.Optional(Type.Number()), tax_bps: Type.Optional(Type.Number()), tax_payee_org_id: Type.Optional(Nullable(Str(100))),
  note_en: Type.Optional(Nullable(Str(500))), note_fr: Type.Optional(Nullable(Str(500))),
}, { additionalProperties: false });

export async function agreementJson(db: Database, staff: StaffPrincipal, id: string) {
  const a = await agreementFor(db, staff, id);
  const [terms, open] = await Promise.all([liveSnapshot(db, a.id), openVersion(db, a.id)]);
  return {
    id: a.id, number: a.number, partner_org_id: a.partner_org_id, is_master: a.is_master, status: a.status, version: a.version,
    decision_date: a.decision_date, decision_reference: a.decision_reference, terms,
    open_version: open ? { version: open.version, status: open.status, terms: open.snapshot, note: open.note } : null,
  };
}

export async function agreementsApi(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db } = deps;
  const own = agreementOwners(db);
  const staffFor = (request: Parameters<typeof requireStaff>[0]) => {
    const s = requireStaff(request);
    if (!mayUseAgreements(s)) throw new AppError(403, 'FORBIDDEN');
    return s;
  };
  const caller = (s: StaffPrincipal) => `staff:${s.id}`;

  app.get('/api/v1/agreements', {
    config: own.agreementList,
    schema: { tags: ['agreements'], summary: 'Agreements this staff member may see (managers and the board: all; a partner: its own)', response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), number: Type.String(), partner_org_id: Type.String(), title_en: Type.String(), title_fr: Type.String(), status: Type.String(), term_start: Type.String(), term_end: Type.String(), is_master: Type.Boolean() })) }), 401: ApiError, 403: ApiError } },
  }, async (request) => {
    const s = staffFor(request);
    let q = db.selectFrom('agreements').select(['id', 'number', 'partner_org_id', 'title_en', 'title_fr', 'status', 'term_start', 'term_end', 'is_master']).orderBy('number');
    if (!seesAll(s)) q = q.where('partner_org_id', '=', s.orgId);
    return { items: await q.execute() };
  });

  app.post<{ Body: Static<typeof CreateBody> }>('/api/v1/agreements', {
    config: { ...own.agreementCreate, idempotent: 'command' },
    schema: { tags: ['agreements'], summary: 'Draft a new agreement (managers; Idempotency-Key)', body: CreateBody, headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }), response: { 201: Agreement, 400: ApiError, 401: ApiError, 403: ApiError, 409: ApiError, 422: ApiError } },
  }, async (request, reply) => {
    const s = staffFor(request);
    if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
    const out = await idempotent(db, request, caller(s), request.body, async () => {
      const { id } = await createAgreement(db, s, { partner_org_id: request.body.partner_org_id, is_master: request.body.is_master, terms: request.body.terms as Record<string, unknown> });
      return { status: 201, body: await agreementJson(db, s, id) };
    });
    return reply.status(out.status).send(out.body);
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/v1/agreements/:id', {
    config: own.agreementRead,
    schema: { tags: ['agreements'], summary: 'An agreement: terms in force and the open version', params: IdParams, response: { 200: Agreement, 401: ApiError, 403: ApiError, 404: ApiError } },
  }, async (request) => agreementJson(db, staffFor(request), request.params.id));

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof Terms> }>('/api/v1/agreements/:id/draft', {
    config: own.agreementManage,
    schema: { tags: ['agreements'], summary: 'Save the open draft (a new agreement or an amendment)', params: IdParams, body: Terms, response: { 200: Agreement, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 422: ApiError } },
  }, async (request) => {
    const s = staffFor(request);
    await saveDraft(db, s, request.params.id, request.body as Record<string, unknown>);
    return agreementJson(db, s, request.params.id);
  });

  const action = (path: string, summary: string, config: { owner: Owner }, body: ReturnType<typeof Type.Object> | null, fn: (s: StaffPrincipal, id: string, b: any) => Promise<unknown>) => {
    app.post<{ Params: Static<typeof IdParams> }>(`/api/v1/agreements/:id/${path}`, {
      config,
      schema: { tags: ['agreements'], summary, params: IdParams, ...(body ? { body } : {}), response: { 200: Agreement, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 422: ApiError } },
    }, async (request) => {
      const s = staffFor(request);
      await fn(s, request.params.id, request.body ?? {});
      return agreementJson(db, s, request.params.id);
    });
  };
  action('submit', 'Submit the open draft to the governance board (managers)', own.agreementManage, null, (s, id) => submit(db, s, id));
  action('recall', 'Take a submitted version back to draft (managers)', own.agreementManage, null, (s, id) => recall(db, s, id));
  action('approve', 'Approve the submitted version (governance board)', own.agreementDecide, Type.Object({ decision_date: Str(10), decision_reference: Str(100) }, { additionalProperties: false }), (s, id, b) => approve(db, s, id, b));
  action('send-back', 'Send the submitted version back (governance board)', own.agreementDecide, Type.Object({ reason: Str(2000) }, { additionalProperties: false }), (s, id, b) => sendBack(db, s, id, b.reason));
  action('accept', 'Accept the approved version (the partner’s staff)', own.agreementAccept, null, (s, id) => accept(db, s, id));
  action('discard-amendment', 'Discard the open draft amendment (managers)', own.agreementManage, null, (s, id) => discardAmendment(db, s, id));
  action('terminate', 'Terminate the agreement; its children end with it (managers)', own.agreementManage, Type.Object({ reason: Str(2000) }, { additionalProperties: false }), (s, id, b) => terminate(db, s, id, b.reason));

  const AmendBody = Type.Object({ terms: Type.Optional(Terms), note: Type.Optional(Str(2000)) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof AmendBody> }>('/api/v1/agreements/:id/amendments', {
    config: { ...own.agreementManage, idempotent: 'command' },
    schema: { tags: ['agreements'], summary: 'Open an amendment: a new draft version (managers; Idempotency-Key)', params: IdParams, body: AmendBody, response: { 201: Agreement, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 422: ApiError } },
  }, async (request, reply) => {
    const s = staffFor(request);
    await agreementFor(db, s, request.params.id);
    if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
    const out = await idempotent(db, request, caller(s), request.body, async () => {
      await amend(db, s, request.params.id, request.body.terms as Record<string, unknown> | undefined, request.body.note);
      return { status: 201, body: await agreementJson(db, s, request.params.id) };
    });
    return reply.status(out.status).send(out.body);
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: { lang?: string } }>('/api/v1/agreements/:id/versions', {
    config: own.agreementRead,
    schema: { tags: ['agreements'], summary: 'Every version with its diff against the terms it amended', params: IdParams, response: { 200: Type.Object({ items: Type.Array(Type.Object({ version: Type.Integer(), status: Type.String(), decision_date: Nullable(Type.String()), decision_reference: Nullable(Type.String()), terms: Type.Unknown(), diff: Type.Array(Type.Object({ field: Type.String(), label: Type.String() })) })) }), 401: ApiError, 403: ApiError, 404: ApiError } },
  }, async (request) => {
    const s = staffFor(request);
    const a = await agreementFor(db, s, request.params.id);
    const rows = await db.selectFrom('agreement_versions').selectAll().where('agreement_id', '=', a.id).orderBy('version').execute();
    return {
      items: rows.map((v) => ({
        version: v.version, status: v.status, decision_date: v.decision_date, decision_reference: v.decision_reference, terms: v.snapshot,
        diff: v.base ? diffAgreementSnapshots(v.base as AgreementSnapshot, v.snapshot as AgreementSnapshot, request.lang) : [],
      })),
    };
  });

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof FeeBody> }>('/api/v1/agreements/:id/fees', {
    config: { ...own.agreementManage, idempotent: 'command' },
    schema: { tags: ['agreements'], summary: 'Add a fee version for a service the agreement covers (managers; Idempotency-Key)', params: IdParams, body: FeeBody, response: { 201: Type.Object({ id: Type.String(), components: Quote.properties.components, totalCents: Type.Integer() }), 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 422: ApiError } },
  }, async (request, reply) => {
    const s = staffFor(request);
    const a = await agreementFor(db, s, request.params.id);
    if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
    const b = request.body;
    const out = await idempotent(db, request, caller(s), b, async () => {
      const r = await createFeeVersion(db, {
        serviceId: b.service_id, channel: b.channel, validFrom: b.valid_from, validTo: b.valid_to ?? null, agreementId: a.id,
        statutoryCents: b.statutory_cents, statutoryPayeeOrgId: b.statutory_payee_org_id ?? null, serviceFee: b.service_fee ?? null,
        cardRecoveryCents: b.card_recovery_cents ?? 0, taxBps: b.tax_bps ?? 0, taxPayeeOrgId: b.tax_payee_org_id ?? null, noteEn: b.note_en ?? null, noteFr: b.note_fr ?? null,
      }, s.id);
      return { status: 201, body: { id: r.id, components: r.quote.components, totalCents: r.quote.totalCents } };
    });
    return reply.status(out.status).send(out.body);
  });

  const QuoteQuery = Type.Object({ service_id: Str(200), channel: Str(20), on: Type.Optional(Str(10)) });
  app.get<{ Querystring: Static<typeof QuoteQuery> }>('/api/v1/fees/quote', {
    config: { ...declared.none, rateLimitPolicy: 'search' },
    schema: { tags: ['agreements'], summary: 'The fee in force for a service on a channel on a day (public: the service page shows it)', querystring: QuoteQuery, response: { 200: Quote, 400: ApiError, 404: ApiError } },
  }, async (request) => {
    const on = request.query.on ?? new Date().toISOString().slice(0, 10);
    if (!isIsoDate(on)) throw new AppError(400, 'INVALID_DATE');
    const q = await feeInForce(db, request.query.service_id, request.query.channel, on);
    if (!q) throw new AppError(404, 'FEE_VERSION_NOT_FOUND');
    return q;
  });

  const PauseBody = Type.Object({ paused: Type.Boolean(), reason: Type.Optional(Nullable(Str(500))) }, { additionalProperties: false });
  app.put<{ Params: { orgId: string }; Body: Static<typeof PauseBody> }>('/api/v1/remittance-pauses/:orgId', {
    config: own.remittancePause,
    schema: { tags: ['agreements'], summary: 'Pause or resume remittance to a payee organisation (managers)', params: Type.Object({ orgId: Str(100) }), body: PauseBody, response: { 200: Type.Object({ org_id: Type.String(), paused: Type.Boolean() }), 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError } },
  }, async (request) => {
    const s = requireStaff(request);
    if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
    const org = await db.selectFrom('organisations').select('id').where('id', '=', request.params.orgId).executeTakeFirst();
    if (!org) throw new AppError(404, 'NOT_FOUND');
    await setRemittancePaused(db, org.id, request.body.paused, s.id, request.body.reason ?? null);
    return { org_id: org.id, paused: request.body.paused };
  });
}
