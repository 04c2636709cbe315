/**
 * Staff pages of the agreements capability (bilingual, plain forms with CSRF, POST-redirect-GET; work without
 * JavaScript). Authorisation is decided in service.ts; another partner's agreement answers 404.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Owner } from '../http/ownership';
import type { AppDeps } from '../http/deps';
import { AppError, describeError, type FieldError } from '../http/errors';
import { requireStaff, type StaffPrincipal } from '../http/session';
import { formatMoney, localDate, parseMoneyInput, t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { CHANNEL_TYPES } from '../catalogue/editor/model';
import { createFeeVersion, quoteComponents } from './fees';
import { liveSnapshot, withSnapshotDefaults, type AgreementSnapshot } from './model';
import {
  accept, agreementFor, amend, approve, createAgreement, defaultSnapshot, diffAgreementSnapshots, discardAmendment, isBoard, isManager, isPartnerStaff,
  mayUseAgreements, openVersion, recall, saveDraft, seesAll, sendBack, submit, terminate,
} from './service';
import { ONE_STOP_ORG_ID } from '../catalogue/demo-data';
import { agreementOwners } from './owners';

export const PATHS = {
  list: { en: '/en/staff/agreements', fr: '/fr/personnel/ententes' },
  create: { en: '/en/staff/agreements/new', fr: '/fr/personnel/ententes/nouvelle' },
  view: { en: '/en/staff/agreements/:id', fr: '/fr/personnel/ententes/:id' },
  edit: { en: '/en/staff/agreements/:id/edit', fr: '/fr/personnel/ententes/:id/modifier' },
  history: { en: '/en/staff/agreements/:id/history', fr: '/fr/personnel/ententes/:id/historique' },
  submit: { en: '/en/staff/agreements/:id/submit', fr: '/fr/personnel/ententes/:id/soumettre' },
  recall: { en: '/en/staff/agreements/:id/recall', fr: '/fr/personnel/ententes/:id/rappeler' },
  approve: { en: '/en/staff/agreements/:id/approve', fr: '/fr/personnel/ententes/:id/approuver' },
  sendBack: { en: '/en/staff/agreements/:id/send-back', fr: '/fr/personnel/ententes/:id/renvoyer' },
  accept: { en: '/en/staff/agreements/:id/accept', fr: '/fr/personnel/ententes/:id/accepter' },
  amend: { en: '/en/staff/agreements/:id/amend', fr: '/fr/personnel/ententes/:id/modification' },
  discard: { en: '/en/staff/agreements/:id/discard', fr: '/fr/personnel/ententes/:id/abandonner' },
  terminate: { en: '/en/staff/agreements/:id/terminate', fr: '/fr/personnel/ententes/:id/resilier' },
  fees: { en: '/en/staff/agreements/:id/fees', fr: '/fr/personnel/ententes/:id/frais' },
  /** The agreement's billing rates (form registered by the billing capability, src/billing/rates-page.ts). */
  billingRates: { en: '/en/staff/agreements/:id/billing-rates', fr: '/fr/personnel/ententes/:id/tarifs-facturation' },
  login: { en: '/en/staff/login', fr: '/fr/personnel/connexion' },
} as const;
type PathKey = keyof typeof PATHS;
export const agreementPath = (k: PathKey, lang: Lang, id?: string) => fillPath(PATHS[k][lang], id ? { id } : {});

const DONE = new Set(['created', 'saved', 'submitted', 'recalled', 'approved', 'sentBack', 'accepted', 'amended', 'discarded', 'terminated', 'fee']);

function staffOrLogin(request: FastifyRequest, reply: FastifyReply, lang: Lang): StaffPrincipal | null {
  if (!request.staff) {
    void reply.redirect(agreementPath('login', lang), 303);
    return null;
  }
  const s = request.staff;
  if (!mayUseAgreements(s)) throw new AppError(403, 'FORBIDDEN');
  return s;
}

/** Form text for services ("id: online, kiosk" a line) and service levels ("standard: 0.8" a line). */
const servicesText = (s: AgreementSnapshot) => s.services.map((x) => `${x.service_id}: ${x.channels.join(', ')}`).join('\n');
const levelsText = (s: AgreementSnapshot) => s.service_levels.map((x) => `${x.standard_id}: ${x.target}`).join('\n');

/** The form's fields as the raw terms normaliseSnapshot reads. */
function termsFromForm(body: Record<string, unknown>): Record<string, unknown> {
  const list = (v: unknown) => (Array.isArray(v) ? v : v == null || v === '' ? [] : [v]);
  const lines = (v: unknown) => (typeof v === 'string' ? v.split(/\r?\n/).map((l) => l.trim()).filter(Boolean) : []);
  return {
    ...Object.fromEntries(['title_en', 'title_fr', 'summary_en', 'summary_fr', 'integration_level', 'term_start', 'term_end', 'renewal', 'renewal_months', 'master_id', 'refund_bearer',
      'convenience_fee_legal_basis_en', 'convenience_fee_legal_basis_fr', 'hold_business_days', 'remittance_frequency', 'payment_due_days'].map((f) => [f, body[f]])),
    show_partner_name: body.show_partner_name === 'yes',
    show_partner_logo: body.show_partner_logo === 'yes',
    net_invoices: body.net_invoices === 'yes',
    visibility_channels: list(body.visibility_channels),
    services: lines(body.services).map((l) => {
      const [id, ch = ''] = l.split(':');
      return { service_id: id.trim(), channels: ch.split(/[,\s]+/).map((c) => c.trim()).filter(Boolean) };
    }),
    service_levels: lines(body.service_levels).map((l) => {
      const k = l.lastIndexOf(':');
      return k < 0 ? { standard_id: l, target: NaN } : { standard_id: l.slice(0, k).trim(), target: Number(l.slice(k + 1).trim().replace(',', '.')) };
    }),
  };
}

export async function agreementPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db } = deps;
  const own = agreementOwners(db);

  const orgName = async (id: string, lang: Lang) => {
    const o = await db.selectFrom('organisations').select(['name_en', 'name_fr']).where('id', '=', id).executeTakeFirst();
    return o ? (lang === 'fr' ? o.name_fr : o.name_en) : id;
  };

  async function renderForm(reply: FastifyReply, lang: Lang, opts: { id?: string; values: Record<string, unknown>; errors?: FieldError[]; message?: string; isNew: boolean }) {
    const errors = (opts.errors ?? []).map((e) => ({ ...e, message: e.message ?? t(lang, `field.${e.code}`) }));
    const [partners, masters] = await Promise.all([
      opts.isNew ? db.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).where('id', '<>', ONE_STOP_ORG_ID).where('is_demo', '=', true).orderBy(lang === 'fr' ? 'name_fr' : 'name_en').execute() : Promise.resolve([]),
      db.selectFrom('agreements').select(['id', 'number', 'title_en', 'title_fr']).where('is_master', '=', true).where('status', 'not in', ['expired', 'terminated']).orderBy('number').execute(),
    ]);
    const v = opts.values;
    const vis = new Set((Array.isArray(v.visibility_channels) ? v.visibility_channels : [v.visibility_channels]).filter(Boolean) as string[]);
    return reply.page('agreements/views/edit.njk', {
      title: opts.isNew ? t(lang, 'agreements.new') : t(lang, 'agreements.edit'),
      action: opts.isNew ? agreementPath('create', lang) : agreementPath('edit', lang, opts.id),
      back: opts.isNew ? agreementPath('list', lang) : agreementPath('view', lang, opts.id),
      isNew: opts.isNew,
      values: v,
      partners: partners.map((p) => ({ value: p.id, text: lang === 'fr' ? p.name_fr : p.name_en, selected: v.partner_org_id === p.id })),
      masters: masters.filter((m) => m.id !== opts.id).map((m) => ({ value: m.id, text: `${m.number} — ${lang === 'fr' ? m.title_fr : m.title_en}`, selected: v.master_id === m.id })),
      channels: CHANNEL_TYPES.map((c) => ({ value: c, text: t(lang, `editor.channel.${c}`), checked: vis.has(c) })),
      errors,
      errorMessage: opts.message,
      fieldErrors: Object.fromEntries(errors.map((e) => [e.field.split('.')[0], e.message])),
    }, errors.length || opts.message ? 400 : 200);
  }

  const formValues = (s: AgreementSnapshot, extra: Record<string, unknown> = {}) => ({
    ...s, master_id: s.master_id ?? '', convenience_fee_legal_basis_en: s.convenience_fee_legal_basis_en ?? '', convenience_fee_legal_basis_fr: s.convenience_fee_legal_basis_fr ?? '',
    show_partner_name: s.show_partner_name ? 'yes' : '', show_partner_logo: s.show_partner_logo ? 'yes' : '', net_invoices: s.net_invoices ? 'yes' : '',
    services: servicesText(s), service_levels: levelsText(s), ...extra,
  });

  // ---- list
  bilingualRoute(app, 'GET', PATHS.list, async (request, reply, lang) => {
    const s = staffOrLogin(request, reply, lang);
    if (!s) return reply;
    let q = db.selectFrom('agreements as a').innerJoin('organisations as o', 'o.id', 'a.partner_org_id')
      .leftJoin('agreement_versions as v', (j) => j.onRef('v.agreement_id', '=', 'a.id').on('v.status', 'in', ['draft', 'submitted', 'approved']))
      .select(['a.id', 'a.number', 'a.title_en', 'a.title_fr', 'a.status', 'a.term_start', 'a.term_end', 'o.name_en', 'o.name_fr', 'v.version as open_version', 'v.status as open_status'])
      .orderBy('a.number');
    if (!seesAll(s)) q = q.where('a.partner_org_id', '=', s.orgId);
    const rows = await q.execute();
    const done = (request.query as { done?: string }).done;
    return reply.page('agreements/views/list.njk', {
      title: t(lang, 'agreements.title'),
      items: rows.map((r) => ({ ...r, url: agreementPath('view', lang, r.id) })),
      newUrl: isManager(s) ? agreementPath('create', lang) : null,
      intakeUrl: lang === 'fr' ? '/fr/personnel/propositions' : '/en/staff/proposals',
      done: done && DONE.has(done) ? t(lang, `agreements.done.${done}`) : null,
    });
  }, { config: own.agreementList });

  // ---- new
  bilingualRoute(app, 'GET', PATHS.create, async (request, reply, lang) => {
    const s = staffOrLogin(request, reply, lang);
    if (!s) return reply;
    if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
    return renderForm(reply, lang, { isNew: true, values: formValues(defaultSnapshot(localDate()), { partner_org_id: '', is_master: '' }) });
  }, { config: own.agreementForm });
  bilingualRoute(app, 'POST', PATHS.create, async (request, reply, lang) => {
    const s = requireStaff(request);
    if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const { id } = await createAgreement(db, s, { partner_org_id: String(body.partner_org_id ?? ''), is_master: body.is_master === 'yes', terms: termsFromForm(body) });
      return reply.redirect(`${agreementPath('view', lang, id)}?done=created`, 303);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      return renderForm(reply, lang, { isNew: true, values: body, errors: e.details, message: e.details?.length ? undefined : describeError(e, lang).message });
    }
  }, { config: own.agreementCreate });

  // ---- one agreement
  bilingualRoute(app, 'GET', PATHS.view, async (request, reply, lang) => {
    const s = staffOrLogin(request, reply, lang);
    if (!s) return reply;
    const { id } = request.params as { id: string };
    const a = await agreementFor(db, s, id);
    const [terms, open, events, fees, partner, master] = await Promise.all([
      liveSnapshot(db, a.id),
      openVersion(db, a.id),
      db.selectFrom('agreement_events as e').leftJoin('staff_users as u', 'u.id', 'e.staff_id').select(['e.action', 'e.version', 'e.detail', 'e.at', 'u.name']).where('e.agreement_id', '=', a.id).orderBy('e.id', 'desc').limit(50).execute(),
      db.selectFrom('fee_versions as f').innerJoin('services as sv', 'sv.id', 'f.service_id').selectAll('f').select(['sv.title_en', 'sv.title_fr']).where('f.agreement_id', '=', a.id).orderBy('f.service_id').orderBy('f.channel').orderBy('f.valid_from').execute(),
      orgName(a.partner_org_id, lang),
      a.master_id ? db.selectFrom('agreements').select(['id', 'number']).where('id', '=', a.master_id).executeTakeFirst() : Promise.resolve(undefined),
    ]);
    const done = (request.query as { done?: string }).done;
    const shown = a.status === 'draft' || a.status === 'submitted' ? (open ? withSnapshotDefaults(open.snapshot as AgreementSnapshot) : terms!) : terms!;
    const amendment = open && open.version > 1 ? open : null;
    return reply.page('agreements/views/agreement.njk', {
      title: `${a.number} — ${lang === 'fr' ? a.title_fr : a.title_en}`,
      a, partner, terms: shown, termsInForce: a.status !== 'draft' && a.status !== 'submitted',
      master: master ? { ...master, url: agreementPath('view', lang, master.id) } : null,
      open, amendment,
      amendmentDiff: amendment ? diffAgreementSnapshots(amendment.base as AgreementSnapshot, amendment.snapshot as AgreementSnapshot, lang) : null,
      events,
      fees: fees.map((f) => {
        const q = quoteComponents(f);
        return { ...f, total: formatMoney(q.totalCents, lang), statutory: formatMoney(Number(f.statutory_cents), lang), share: formatMoney(q.components.filter((c) => c.kind !== 'statutory' && c.kind !== 'tax').reduce((n, c) => n + c.amountCents, 0), lang) };
      }),
      urls: Object.fromEntries((['edit', 'history', 'submit', 'recall', 'approve', 'sendBack', 'accept', 'amend', 'discard', 'terminate', 'fees', 'billingRates', 'list'] as const).map((k) => [k, agreementPath(k, lang, k === 'list' ? undefined : a.id)])),
      can: {
        edit: isManager(s) && open?.status === 'draft',
        submit: isManager(s) && open?.status === 'draft',
        recall: isManager(s) && open?.status === 'submitted',
        approve: isBoard(s) && open?.status === 'submitted',
        accept: isPartnerStaff(s) && s.orgId === a.partner_org_id && open?.status === 'approved',
        amend: isManager(s) && a.status === 'active' && !open,
        discard: isManager(s) && open && open.version > 1 && open.status !== 'approved',
        terminate: isManager(s) && a.status !== 'expired' && a.status !== 'terminated',
        fees: isManager(s) && (a.status === 'active' || a.status === 'approved'),
        billingRates: isManager(s),
      },
      serviceChoices: (terms?.services ?? []).map((x) => x.service_id),
      channelChoices: CHANNEL_TYPES.map((c) => ({ value: c, text: t(lang, `editor.channel.${c}`) })),
      today: localDate(),
      done: done && DONE.has(done) ? t(lang, `agreements.done.${done}`) : null,
    });
  }, { config: own.agreementRead });

  // ---- edit the open draft
  bilingualRoute(app, 'GET', PATHS.edit, async (request, reply, lang) => {
    const s = staffOrLogin(request, reply, lang);
    if (!s) return reply;
    const a = await agreementFor(db, s, (request.params as { id: string }).id);
    if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
    const open = await openVersion(db, a.id);
    if (!open || open.status !== 'draft') throw new AppError(409, 'VERSION_NOT_DRAFT');
    return renderForm(reply, lang, { id: a.id, isNew: false, values: formValues(withSnapshotDefaults(open.snapshot as AgreementSnapshot)) });
  }, { config: own.agreementManage });
  bilingualRoute(app, 'POST', PATHS.edit, async (request, reply, lang) => {
    const s = requireStaff(request);
    const { id } = request.params as { id: string };
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      await saveDraft(db, s, id, termsFromForm(body));
      return reply.redirect(`${agreementPath('view', lang, id)}?done=saved`, 303);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500 || e.status === 404 || e.status === 403) throw e;
      return renderForm(reply, lang, { id, isNew: false, values: body, errors: e.details, message: e.details?.length ? undefined : describeError(e, lang).message });
    }
  }, { config: own.agreementManage });

  // ---- history
  bilingualRoute(app, 'GET', PATHS.history, async (request, reply, lang) => {
    const s = staffOrLogin(request, reply, lang);
    if (!s) return reply;
    const a = await agreementFor(db, s, (request.params as { id: string }).id);
    const [versions, events] = await Promise.all([
      db.selectFrom('agreement_versions as v').leftJoin('staff_users as u', 'u.id', 'v.approved_by').selectAll('v').select('u.name as approver').where('v.agreement_id', '=', a.id).orderBy('v.version', 'desc').execute(),
      db.selectFrom('agreement_events as e').leftJoin('staff_users as u', 'u.id', 'e.staff_id').select(['e.action', 'e.version', 'e.detail', 'e.at', 'u.name']).where('e.agreement_id', '=', a.id).orderBy('e.id', 'desc').execute(),
    ]);
    return reply.page('agreements/views/history.njk', {
      title: `${t(lang, 'agreements.history')} — ${a.number}`,
      back: agreementPath('view', lang, a.id),
      versions: versions.map((v) => ({ ...v, diff: v.base ? diffAgreementSnapshots(v.base as AgreementSnapshot, v.snapshot as AgreementSnapshot, lang) : null })),
      events,
    });
  }, { config: own.agreementRead });

  // ---- actions (POST-redirect-GET)
  const post = (k: PathKey, done: string, config: { owner: Owner }, fn: (s: StaffPrincipal, id: string, body: Record<string, string>) => Promise<unknown>) =>
    bilingualRoute(app, 'POST', PATHS[k], async (request, reply, lang) => {
      const s = requireStaff(request);
      const { id } = request.params as { id: string };
      await fn(s, id, (request.body ?? {}) as Record<string, string>);
      return reply.redirect(`${agreementPath('view', lang, id)}?done=${done}`, 303);
    }, { config });
  post('submit', 'submitted', own.agreementManage, (s, id) => submit(db, s, id));
  post('recall', 'recalled', own.agreementManage, (s, id) => recall(db, s, id));
  post('approve', 'approved', own.agreementDecide, (s, id, b) => approve(db, s, id, { decision_date: String(b.decision_date ?? '').trim(), decision_reference: String(b.decision_reference ?? '') }));
  post('sendBack', 'sentBack', own.agreementDecide, (s, id, b) => sendBack(db, s, id, String(b.reason ?? '')));
  post('accept', 'accepted', own.agreementAccept, (s, id) => accept(db, s, id));
  post('amend', 'amended', own.agreementManage, (s, id) => amend(db, s, id));
  post('discard', 'discarded', own.agreementManage, (s, id) => discardAmendment(db, s, id));
  post('terminate', 'terminated', own.agreementManage, (s, id, b) => terminate(db, s, id, String(b.reason ?? '')));
  post('fees', 'fee', own.agreementManage, async (s, id, b) => {
    const a = await agreementFor(db, s, id);
    if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
    const cents = (field: string, v: unknown, required: boolean) => {
      const m = parseMoneyInput(v);
      if (m.code) throw new AppError(400, 'INVALID_AMOUNT', undefined, undefined, [{ field, code: m.code }]);
      if (m.cents == null && required) throw new AppError(400, 'INVALID_AMOUNT', undefined, undefined, [{ field, code: 'required' }]);
      return m.cents ?? 0;
    };
    const share = cents('share', b.share, false);
    await createFeeVersion(db, {
      serviceId: String(b.service_id ?? ''), channel: String(b.channel ?? ''), validFrom: String(b.valid_from ?? '').trim(), validTo: String(b.valid_to ?? '').trim() || null,
      agreementId: a.id, statutoryCents: cents('statutory', b.statutory, true),
      serviceFee: share ? { basis: 'fixed', value: share, mode: b.mode === 'on_top' ? 'on_top' : 'included' } : null,
      cardRecoveryCents: cents('card', b.card, false),
    }, s.id);
  });
}
