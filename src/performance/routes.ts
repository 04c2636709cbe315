/**
 * Pages and API of the performance capability (one encapsulated plugin):
 *   public    charter /en/performance · /fr/rendement, one service's figures, survey pages, open data (JSON, CSV);
 *   staff     partner report (own organisation only), managers' dashboard (the one-stop's managers), counter tablet,
 *             unit costs and campaign markers, partner volume upload (CSV);
 *   partners  API with the partner key (Authorization: Bearer gpk_…): own report, own volumes.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import { requireStaff, type StaffPrincipal } from '../http/session';
import { localDate, t, type Lang } from '../i18n/index';
import { bilingualRoute } from '../web/render';
import { ttlCache } from '../db/ttl-cache';
import { orgForApiKey } from '../notices/service';
import { charterIndex, serviceCharter } from './charter';
import {
  costsFrom, countsQuery, gcStandardsSummary, guaranteeFrom, guaranteeQuery, histQuery, indicatorsFrom, isWholeMonths, jsonBatch, reportedFrom,
  reportedVolumesQuery, satisfactionFrom, satisfactionQuery, sideBySideQuery, sideFrom, sideFromCounts, trendFrom, trendQuery, unitCostsQuery,
  type CountRow, type HistRow,
} from './indicators';
import { partnerComments, partnerReport, monthRange, previousMonth } from './reports';
import { checkToken, COMMENT_MAX, mintToken, respond } from './survey';
import { listVolumes, parseVolumesCsv, storeVolumes, type VolumeLine } from './volumes';
import { CHANNELS, type Channel } from './tables';
import { own, ONE_STOP_ORG, type OrgOwner, type Owner } from '../http/ownership';
import { officeOwner } from '../counters/owners';

const TAGS = ['performance'];
export const PP = {
  charter: { en: '/en/performance', fr: '/fr/rendement' },
  service: { en: '/en/performance/services/:serviceId', fr: '/fr/rendement/services/:serviceId' },
  feedback: { en: '/en/performance/feedback', fr: '/fr/rendement/avis' },
  survey: { en: '/en/performance/survey/:token', fr: '/fr/rendement/sondage/:token' },
  answer: { en: '/en/performance/survey', fr: '/fr/rendement/sondage' },
  report: { en: '/en/staff/performance/report', fr: '/fr/personnel/rendement/rapport' },
  dashboard: { en: '/en/staff/performance', fr: '/fr/personnel/rendement' },
  costs: { en: '/en/staff/performance/costs', fr: '/fr/personnel/rendement/couts' },
  campaigns: { en: '/en/staff/performance/campaigns', fr: '/fr/personnel/rendement/campagnes' },
  tablet: { en: '/en/staff/performance/tablet/:officeId', fr: '/fr/personnel/rendement/tablette/:officeId' },
  volumes: { en: '/en/staff/performance/volumes', fr: '/fr/personnel/rendement/volumes' },
};
const DATE = '^\\d{4}-\\d{2}-\\d{2}$';
const MONTH = '^\\d{4}-(0[1-9]|1[0-2])$';

/** A real calendar day from 1900 on (a period reaching year 1 would start before the calendar PostgreSQL and Intl agree
 * on: its "last 365 days" came out as "1-01-03"). */
function validDate(s: unknown): s is string {
  return typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && s >= '1900-01-01' && !Number.isNaN(Date.parse(s + 'T00:00:00Z')) && new Date(s + 'T00:00:00Z').toISOString().slice(0, 10) === s;
}

/** The same period widened to whole months (the dashboard reads the monthly rollups). */
export function wholeMonths(p: { from: string; to: string }): { from: string; to: string } {
  const [y, m] = p.to.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: p.from.slice(0, 8) + '01', to: `${p.to.slice(0, 8)}${String(last).padStart(2, '0')}` };
}

/** The period of a request: from/to (inclusive) or the last 365 days. */
export function periodOf(q: { from?: unknown; to?: unknown }, now = new Date()): { from: string; to: string } {
  const to = validDate(q.to) ? q.to : localDate(now);
  const from = validDate(q.from) && q.from <= to ? q.from : localDate(new Date(Date.parse(to + 'T12:00:00Z') - 364 * 86400_000), 'UTC');
  return { from, to };
}

/** A query or form string safe to hand to PostgreSQL (text cannot hold NUL), or '' . */
const clean = (v: unknown, max = 200): string => (typeof v === 'string' && v.length <= max && !v.includes('\u0000') ? v : '');

const isOneStopManager = (s: StaffPrincipal) => s.orgId === ONE_STOP_ORG && (s.roles.includes('manager') || s.roles.includes('admin'));

/** The organisation whose report a staff member may read: their own; the one-stop's managers may choose. */
function reportOrg(staff: StaffPrincipal, asked: unknown): string {
  if (typeof asked === 'string' && asked && asked !== staff.orgId) {
    if (!isOneStopManager(staff)) throw new AppError(404, 'REPORT_NOT_FOUND');
    return asked;
  }
  return staff.orgId;
}

async function partnerFromKey(db: Database, request: FastifyRequest): Promise<string> {
  const org = await orgForApiKey(db, request.headers.authorization);
  if (!org) throw new AppError(401, 'UNAUTHENTICATED');
  return org;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${(/^[=+\-@]/.test(s) ? "'" : '') + s.replace(/"/g, '""')}"` : s;
}

/**
 * The dashboard and the charter read the small monthly rollups directly, on every request (no cache: a figure is at
 * most one rollup run — a minute — old). Only the GC inventory's standards summary, imported data that changes when
 * the catalogue is imported again, is kept 10 minutes.
 */
const gcSummaryCache = ttlCache<string, Awaited<ReturnType<typeof gcStandardsSummary>>>(10 * 60_000, { staleWhileRevalidate: true });

/**
 * Everything the managers' dashboard shows, for whole months, in two statements run side by side, each returning its
 * parts as JSON (jsonBatch: parsed at once rather than value by value): (1) the counts per channel × outcome from
 * perf_monthly_total (the indicators and the channels side by side), the transactions per month × channel (the
 * trend), unit costs, campaign markers, partners' reported volumes, survey answers, guarantee breaches and the time
 * histogram; (2) the partners side by side (the monthly summary per partner, with the organisations' names) and the
 * offices side by side (with the offices' names). Nothing is cached.
 */
export async function dashboardData(db: Database, period: { from: string; to: string }) {
  // the monthly rollups answer whole months: any other period is widened to the months it touches (never a 500)
  const f = isWholeMonths(period) ? period : wholeMonths(period);
  const [main, sides] = await Promise.all([
    jsonBatch(db, {
      counts: countsQuery(f),
      trend: trendQuery(f),
      costs: unitCostsQuery(db),
      campaigns: db.selectFrom('perf_campaigns').select(['id', 'day', 'label_en', 'label_fr']).where('day', '>=', f.from).where('day', '<=', f.to),
      reported: reportedVolumesQuery(db, f),
      survey: satisfactionQuery(db, f),
      guarantee: guaranteeQuery(db, f),
      hist: histQuery(f),
    }),
    jsonBatch(db, { partners: sideBySideQuery(f, 'owner_org_id', { names: 'organisations' }), offices: sideBySideQuery(f, 'office_id', { names: 'offices' }) }),
  ]);
  const counts = main.counts as unknown as CountRow[];
  const costs = costsFrom(main.costs as { channel: string; cost_cents: number }[]);
  const ind = indicatorsFrom(f, counts, main.hist as unknown as HistRow[], reportedFrom(main.reported as { channel: string; n: number }[]),
    satisfactionFrom(main.survey as { score: number | null; n: number }[]), costs, guaranteeFrom(main.guarantee[0] as Parameters<typeof guaranteeFrom>[0]));
  const campaigns = (main.campaigns as { id: number; day: string; label_en: string; label_fr: string }[]).sort((a, b) => a.day.localeCompare(b.day) || a.id - b.id);
  const byContacts = <T extends { contacts: number }>(xs: T[]) => xs.sort((a, b) => b.contacts - a.contacts);
  return {
    ind, channels: sideFromCounts(counts, (r) => r.channel), trend: trendFrom(main.trend as { month: string; channel: string; outcome: string; events: number }[]),
    partners: byContacts(sideFrom(sides.partners as never)), offices: byContacts(sideFrom(sides.offices as never)), campaigns, costs,
  };
}

export async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const db = deps.db;
  /*
   * Whose data each route touches (src/http/ownership.ts), mirroring the checks below and docs/performance.md:
   * public charter, open data and the anonymous survey: no organisation's; the counter tablet: the office's (the
   * organisations it hosts); the report: the caller's organisation, or with ?org= the one named there (the one-stop's
   * managers and admins may read any: reportOrg); volumes: the caller's organisation (or the partner key's); the
   * dashboard, unit costs and campaign markers: the one-stop's own (its managers and admins).
   */
  const publicPage = own.none;
  const anonymousSurvey = { ...own.none, rateLimitPolicy: 'search' as const };
  const report: { owner: Owner } = {
    owner: {
      whose: 'an organisation’s monthly report: the caller’s own, or with ?org= the one named (the one-stop’s managers and admins)',
      org: (r) => clean((r.query as { org?: unknown } | undefined)?.org) || r.staff?.orgId || null,
      roles: ['partner', 'manager', 'admin'], oneStop: { may: 'read', roles: ['manager', 'admin'] }, notFound: 'REPORT_NOT_FOUND',
    },
  };
  const ownReport = { ...own.caller('the caller’s own organisation’s report (staff session; or the partner key’s organisation)', ['partner', 'manager', 'admin']), rateLimitPolicy: 'partnerFeed' as const };
  const ownVolumes = own.caller('the volumes the caller’s own organisation reported', ['partner', 'manager', 'admin']);
  const oneStopDashboard: { owner: Owner } = {
    owner: { whose: 'the one-stop’s dashboard, unit costs and campaign markers (its managers and admins)', org: () => ONE_STOP_ORG, roles: ['manager', 'admin'], oneStop: { may: 'none' } },
  };
  // the counter tablet: any staff member of an organisation the office hosts (or lent to one there), as counters decide
  const counterTablet: { owner: Owner } = { owner: { ...(officeOwner(db).owner as OrgOwner), roles: 'any' } };
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  // ---------------------------------------------------------------- public charter
  bilingualRoute(app, 'GET', PP.charter, async (request, reply, lang) => {
    const q = request.query as Record<string, string | undefined>;
    const period = wholeMonths(periodOf(q));
    const page = Math.min(1000, Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1));
    const search = clean(q.q, 1000).slice(0, 100);
    const [data, gc] = await Promise.all([
      charterIndex(db, { ...period, q: search || undefined, page, lang }),
      gcSummaryCache(db, 'all', () => gcStandardsSummary(db)),
    ]);
    return reply.page('performance/views/charter.njk', { title: t(lang, 'performance.charter.title'), data, gc, period, search, paths: PP });
  }, { config: publicPage });

  bilingualRoute(app, 'GET', PP.service, async (request, reply, lang) => {
    const serviceId = clean((request.params as { serviceId: string }).serviceId);
    const period = wholeMonths(periodOf(request.query as Record<string, unknown>));
    const d = serviceId ? await serviceCharter(db, serviceId, period) : null;
    if (!d) throw new AppError(404, 'PERF_SERVICE_NOT_FOUND');
    const charts = {
      channelLabels: d.channels.map((c) => t(lang, `performance.channel.${c.channel}`)),
      channelData: d.channels.map((c) => c.total),
      levelLabels: ['1', '2', '3', '4', '5'].map((s) => t(lang, `performance.survey.score.${s}`)),
    };
    return reply.page('performance/views/service.njk', { title: lang === 'fr' ? d.service.title_fr : d.service.title_en, d, period, charts, paths: PP });
  }, { config: publicPage });

  const PeriodQuery = Type.Object({ from: Type.Optional(Type.String({ pattern: DATE })), to: Type.Optional(Type.String({ pattern: DATE })) });
  app.get('/api/v1/performance/services/:serviceId', {
    config: publicPage,
    schema: { tags: TAGS, summary: "A service's public figures (open data; counts under 10 suppressed as null)", params: Type.Object({ serviceId: Type.String({ maxLength: 200 }) }), querystring: PeriodQuery },
  }, async (request) => {
    const serviceId = clean((request.params as { serviceId: string }).serviceId);
    const d = serviceId ? await serviceCharter(db, serviceId, wholeMonths(periodOf(request.query as Record<string, unknown>))) : null;
    if (!d) throw new AppError(404, 'PERF_SERVICE_NOT_FOUND');
    return d;
  });

  const CharterQuery = Type.Object({
    from: Type.Optional(Type.String({ pattern: DATE })), to: Type.Optional(Type.String({ pattern: DATE })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), q: Type.Optional(Type.String({ maxLength: 100 })),
    lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('fr')])),
  });
  app.get('/api/v1/performance/charter', {
    config: publicPage,
    schema: { tags: TAGS, summary: 'The public charter: every service with figures (open data, 50 per page, suppressed under 10)', querystring: CharterQuery },
  }, async (request) => {
    const q = request.query as { page?: number; q?: string; lang?: Lang };
    const period = wholeMonths(periodOf(request.query as Record<string, unknown>));
    return { period, ...(await charterIndex(db, { ...period, q: q.q, page: q.page, lang: q.lang ?? 'en' })) };
  });
  app.get('/api/v1/performance/charter.csv', {
    config: publicPage,
    schema: { tags: TAGS, summary: 'The public charter as CSV (open data; empty cells are suppressed or not available)', querystring: CharterQuery },
  }, async (request, reply) => {
    const q = request.query as { page?: number; q?: string; lang?: Lang };
    const period = wholeMonths(periodOf(request.query as Record<string, unknown>));
    const d = await charterIndex(db, { ...period, q: q.q, page: q.page, lang: q.lang ?? 'en', pageSize: 2000 });
    const head = ['service_id', 'title_en', 'title_fr', 'owner_org_id', 'period_from', 'period_to', 'transactions', 'digital_take_up', 'completion_rate', 'satisfied_share', 'responses', 'gc_standards_with_result', 'gc_standards_met'];
    const lines = d.rows.map((r) => [r.serviceId, r.title_en, r.title_fr, r.owner_org_id, period.from, period.to, r.transactions, r.takeUp, r.completionRate, r.satisfied, r.responses, r.standards, r.standardsMet].map(csvCell).join(','));
    reply.header('content-disposition', 'attachment; filename="guichet-performance.csv"');
    return reply.type('text/csv; charset=utf-8').send('\uFEFF' + [head.join(','), ...lines].join('\r\n') + '\r\n');
  });

  // ---------------------------------------------------------------- satisfaction survey
  const surveyPage = (reply: FastifyReply, lang: Lang, ctx: Record<string, unknown>, status = 200) =>
    reply.page('performance/views/survey.njk', { title: t(lang, 'performance.survey.title'), commentMax: COMMENT_MAX, paths: PP, ...ctx }, status);
  const serviceTitle = async (id: string | null, lang: Lang) => {
    if (!id) return null;
    const s = await db.selectFrom('services').select(['title_en', 'title_fr']).where('id', '=', id).executeTakeFirst();
    return s ? (lang === 'fr' ? s.title_fr : s.title_en) : null;
  };
  const safeNext = (v: unknown) => (typeof v === 'string' && /^\/(en|fr)\/[A-Za-z0-9/_\-]*$/.test(v) && !v.startsWith('//') ? v : null);

  // The end of a web or kiosk journey: an anonymous invitation minted for this page view.
  bilingualRoute(app, 'GET', PP.feedback, async (request, reply, lang) => {
    const q = request.query as Record<string, string | undefined>;
    const channel: Channel = q.channel === 'kiosk' ? 'kiosk' : 'web';
    let serviceId: string | null = null;
    if (clean(q.service)) {
      const s = await db.selectFrom('services').select('id').where('id', '=', clean(q.service)).executeTakeFirst();
      serviceId = s?.id ?? null;
    }
    let officeId: string | null = null;
    if (clean(q.office, 100)) {
      const o = await db.selectFrom('offices').select('id').where('id', '=', clean(q.office, 100)).executeTakeFirst();
      officeId = o?.id ?? null;
    }
    const token = await mintToken(db, { serviceId, officeId, channel }, 86400);
    const end = ['done', 'not_eligible', 'error', 'abandoned'].includes(q.end ?? '') ? q.end : null;
    return surveyPage(reply, lang, { token, service: await serviceTitle(serviceId, lang), end, next: safeNext(q.next) });
  }, { config: anonymousSurvey });

  bilingualRoute(app, 'GET', PP.survey, async (request, reply, lang) => {
    const { token } = request.params as { token: string };
    const about = await checkToken(db, token);
    return surveyPage(reply, lang, { token, service: await serviceTitle(about.serviceId, lang) });
  }, { config: publicPage });

  bilingualRoute(app, 'POST', PP.answer, async (request, reply, lang) => {
    const b = (request.body ?? {}) as Record<string, unknown>;
    const token = typeof b.token === 'string' ? b.token : '';
    const next = safeNext(b.next);
    try {
      await respond(db, token, { score: b.score, comment: b.comment, lang });
    } catch (e) {
      if (e instanceof AppError && e.code === 'VALIDATION_ERROR') {
        const fields: Record<string, string> = {};
        const list = (e.details ?? []).map((d) => {
          const msg = t(lang, `performance.survey.error.${d.field}.${d.code}`, { max: COMMENT_MAX });
          fields[d.field] = msg;
          return { text: msg, href: `#${d.field === 'score' ? 'score' : 'comment'}` };
        });
        return surveyPage(reply, lang, { token, errors: { fields, list }, values: b, next }, 400);
      }
      throw e;
    }
    return reply.page('performance/views/survey-done.njk', { title: t(lang, 'performance.survey.thanks'), next });
  }, { config: anonymousSurvey });

  app.post('/api/v1/performance/survey', {
    config: anonymousSurvey,
    schema: {
      tags: TAGS, summary: 'Answer a survey with its single-use token (anonymous; a used, expired or unknown token: 410)',
      body: Type.Object({ token: Type.String({ maxLength: 100 }), score: Type.Union([Type.Literal('1'), Type.Literal('2'), Type.Literal('3'), Type.Literal('4'), Type.Literal('5'), Type.Literal('na')]), comment: Type.Optional(Type.String({ maxLength: COMMENT_MAX })), lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('fr')])) }),
    },
  }, async (request, reply) => {
    const b = request.body as { token: string; score: string; comment?: string; lang?: Lang };
    await respond(db, b.token, { score: b.score, comment: b.comment, lang: b.lang ?? request.lang ?? 'en' });
    return reply.status(201).send({ ok: true });
  });

  // The tablet at a counter: a fresh anonymous invitation for each client.
  bilingualRoute(app, 'GET', PP.tablet, async (request, reply, lang) => {
    requireStaff(request);
    const officeId = clean((request.params as { officeId: string }).officeId);
    const office = await db.selectFrom('offices').select(['id', 'name_en', 'name_fr']).where('id', '=', officeId).executeTakeFirst();
    if (!office) throw new AppError(404, 'OFFICE_NOT_FOUND');
    const q = request.query as Record<string, string | undefined>;
    let serviceId: string | null = null;
    if (clean(q.service)) {
      const s = await db.selectFrom('office_services').select('service_id').where('office_id', '=', officeId).where('service_id', '=', clean(q.service)).executeTakeFirst();
      serviceId = s?.service_id ?? null;
    }
    const token = await mintToken(db, { serviceId, officeId, channel: 'counter' }, 3600);
    const here = (lang === 'fr' ? PP.tablet.fr : PP.tablet.en).replace(':officeId', encodeURIComponent(officeId));
    return surveyPage(reply, lang, { token, tablet: true, office: lang === 'fr' ? office.name_fr : office.name_en, service: await serviceTitle(serviceId, lang), next: here });
  }, { config: counterTablet });

  // ---------------------------------------------------------------- partner report
  bilingualRoute(app, 'GET', PP.report, async (request, reply, lang) => {
    const staff = requireStaff(request, ['partner', 'manager', 'admin']);
    const q = request.query as Record<string, string | undefined>;
    const orgId = reportOrg(staff, clean(q.org) || undefined);
    const month = typeof q.month === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(q.month) ? q.month : previousMonth();
    const [report, comments, org, kept, gc] = await Promise.all([
      partnerReport(db, orgId, month),
      partnerComments(db, orgId, monthRange(month)),
      db.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).where('id', '=', orgId).executeTakeFirst(),
      db.selectFrom('perf_reports').select(['month', 'mailed_at']).where('org_id', '=', orgId).orderBy('month', 'desc').limit(36).execute(),
      gcStandardsSummary(db, orgId),
    ]);
    if (!org) throw new AppError(404, 'REPORT_NOT_FOUND');
    return reply.page('performance/views/report.njk', { title: t(lang, 'performance.report.title'), report, comments, org, month, kept, gc, paths: PP, asOther: orgId !== staff.orgId });
  }, { config: report });

  const ReportQuery = Type.Object({ month: Type.Optional(Type.String({ pattern: MONTH })) });
  app.get('/api/v1/performance/partners/me/report', {
    config: ownReport,
    schema: { tags: TAGS, summary: "The partner's own monthly report (partner key): volumes, standards, satisfaction, comments, referrals, fees, cost avoided", querystring: ReportQuery, security: [{ partnerKey: [] }] },
  }, async (request) => {
    const orgId = request.staff && !request.headers.authorization ? requireStaff(request, ['partner', 'manager', 'admin']).orgId : await partnerFromKey(db, request);
    const month = (request.query as { month?: string }).month ?? previousMonth();
    const [report, comments] = await Promise.all([partnerReport(db, orgId, month), partnerComments(db, orgId, monthRange(month))]);
    return { ...report, comments };
  });

  // ---------------------------------------------------------------- partners' own volumes
  const VolumeRow = Type.Object({
    serviceId: Type.String({ maxLength: 200 }), channel: Type.String({ maxLength: 20 }),
    periodStart: Type.String({ maxLength: 10 }), periodEnd: Type.String({ maxLength: 10 }), transactions: Type.Number(),
  });
  app.post('/api/v1/performance/volumes', {
    config: { ...own.partnerKey, rateLimitPolicy: 'partnerFeed' as const, idempotent: true },
    schema: {
      tags: TAGS, summary: "A partner reports its own channels' volumes (partner key). JSON {rows:[…]} or text/csv (service_id,channel,period_start,period_end,transactions); checked whole, nothing partial stored, errors as file:line: reason",
      security: [{ partnerKey: [] }],
    },
  }, async (request, reply) => {
    const orgId = await partnerFromKey(db, request);
    const lang = request.lang ?? 'en';
    let lines: VolumeLine[];
    const ct = String(request.headers['content-type'] ?? '');
    const file = String((request.query as Record<string, unknown>)?.file ?? 'upload.csv').replace(/[^A-Za-z0-9._-]/g, '').slice(0, 100) || 'upload.csv';
    if (ct.startsWith('text/csv') || ct.startsWith('text/plain')) {
      lines = parseVolumesCsv(String(request.body ?? '').replace(/\u0000/g, ''), file, lang);
    } else {
      const body = request.body as { rows?: unknown };
      if (!body || !Array.isArray(body.rows)) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'rows', code: 'required' }]);
      lines = body.rows.map((r, i) => {
        const x = (r ?? {}) as Record<string, unknown>;
        return { line: i + 1, serviceId: String(x.serviceId ?? ''), channel: String(x.channel ?? ''), periodStart: String(x.periodStart ?? ''), periodEnd: String(x.periodEnd ?? ''), transactions: x.transactions };
      });
    }
    const r = await storeVolumes(db, orgId, lines, ct.startsWith('text/') ? file : 'rows', lang, ct.startsWith('text/') ? 'csv' : 'api');
    return reply.status(201).send(r);
  });
  void VolumeRow;

  bilingualRoute(app, 'GET', PP.volumes, async (request, reply, lang) => {
    const staff = requireStaff(request, ['partner', 'manager', 'admin']);
    return reply.page('performance/views/volumes.njk', { title: t(lang, 'performance.volumes.title'), rows: await listVolumes(db, staff.orgId), paths: PP });
  }, { config: ownVolumes });
  bilingualRoute(app, 'POST', PP.volumes, async (request, reply, lang) => {
    const staff = requireStaff(request, ['partner', 'manager', 'admin']);
    const b = (request.body ?? {}) as Record<string, unknown>;
    const text = typeof b.csv === 'string' ? b.csv.slice(0, 5 * 1024 * 1024).replace(/\u0000/g, '') : '';
    const file = (typeof b.name === 'string' ? b.name : '').replace(/[^A-Za-z0-9._-]/g, '').slice(0, 100) || 'upload.csv';
    try {
      const r = await storeVolumes(db, staff.orgId, parseVolumesCsv(text, file, lang), file, lang, 'csv');
      return reply.page('performance/views/volumes.njk', { title: t(lang, 'performance.volumes.title'), rows: await listVolumes(db, staff.orgId), stored: r, paths: PP });
    } catch (e) {
      if (e instanceof AppError && e.code === 'VOLUMES_INVALID') {
        return reply.page('performance/views/volumes.njk', { title: t(lang, 'performance.volumes.title'), rows: await listVolumes(db, staff.orgId), uploadErrors: (e.details ?? []).map((d) => d.message), csv: text, name: file, paths: PP }, 422);
      }
      throw e;
    }
  }, { config: ownVolumes });

  // ---------------------------------------------------------------- managers' dashboard
  const requireManager = (request: FastifyRequest) => {
    const s = requireStaff(request, ['manager', 'admin']);
    if (!isOneStopManager(s)) throw new AppError(403, 'FORBIDDEN');
    return s;
  };
  bilingualRoute(app, 'GET', PP.dashboard, async (request, reply, lang) => {
    requireManager(request);
    const period = wholeMonths(periodOf(request.query as Record<string, unknown>));
    const f = { ...period };
    const { ind, partners, channels, offices, trend, campaigns, costs } = await dashboardData(db, f);
    const nameOf = (rows: typeof partners) => Object.fromEntries(rows.map((o) => [o.key, lang === 'fr' ? o.name_fr : o.name_en]));
    const orgName = nameOf(partners), officeName = nameOf(offices);
    const q = request.query as Record<string, string | undefined>;
    const shiftPct = Math.min(100, Math.max(0, Number.parseInt(q.shift ?? '10', 10) || 10));
    const counterTx = ind.byChannel.find((c) => c.channel === 'counter');
    const moved = Math.round(((counterTx?.transactions ?? 0) + (counterTx?.reported ?? 0)) * shiftPct / 100);
    const saving = costs.counter !== undefined && costs.web !== undefined ? moved * (costs.counter - costs.web) : null;
    const campaignsByMonth: Record<string, string[]> = {};
    for (const c of campaigns) (campaignsByMonth[c.day.slice(0, 7)] ??= []).push(`${c.day} ${lang === 'fr' ? c.label_fr : c.label_en}`);
    const channelName = Object.fromEntries(CHANNELS.map((c) => [c, t(lang, `performance.channel.${c}`)]));
    // The adoption chart: take-up by month; a campaign is a second series with a point on its month (marker).
    const trendChart = {
      labels: trend.map((m) => m.month),
      datasets: [
        { label: t(lang, 'performance.col.takeUp') + ' (%)', data: trend.map((m) => (m.takeUp === null ? null : Math.round(m.takeUp * 1000) / 10)) },
        { label: t(lang, 'performance.col.campaigns'), data: trend.map((m) => (campaignsByMonth[m.month] ? (m.takeUp === null ? 0 : Math.round(m.takeUp * 1000) / 10) : null)), showLine: false, pointRadius: 8, pointStyle: 'triangle' },
      ],
    };
    return reply.page('performance/views/dashboard.njk', {
      title: t(lang, 'performance.dashboard.title'), ind, partners, channels, offices: offices.filter((o) => o.key !== ''), trend, campaigns, costs,
      orgName, officeName, channelName, campaignsByMonth, trendChart, period, shiftPct, moved, saving, channelsList: CHANNELS, paths: PP,
    });
  }, { config: oneStopDashboard });

  bilingualRoute(app, 'POST', PP.costs, async (request, reply, lang) => {
    const staff = requireManager(request);
    const b = (request.body ?? {}) as Record<string, unknown>;
    const rows: { channel: string; cost_cents: number }[] = [];
    const bad: string[] = [];
    for (const c of CHANNELS) {
      const v = b[c];
      if (v === undefined || v === '') continue;
      const n = Number(String(v).replace(',', '.'));
      if (!Number.isFinite(n) || n < 0 || n > 100000) bad.push(c);
      else rows.push({ channel: c, cost_cents: Math.round(n * 100) });
    }
    if (bad.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, bad.map((c) => ({ field: c, code: 'invalid' })));
    if (rows.length) {
      await db.insertInto('perf_unit_costs').values(rows.map((r) => ({ ...r, updated_by: staff.id })))
        .onConflict((oc) => oc.column('channel').doUpdateSet((eb) => ({ cost_cents: eb.ref('excluded.cost_cents'), updated_by: eb.ref('excluded.updated_by'), updated_at: new Date() }))).execute();
    }
    return reply.redirect(lang === 'fr' ? PP.dashboard.fr : PP.dashboard.en, 303);
  }, { config: oneStopDashboard });

  bilingualRoute(app, 'POST', PP.campaigns, async (request, reply, lang) => {
    const staff = requireManager(request);
    const b = (request.body ?? {}) as Record<string, unknown>;
    const day = b.day, en = clean(b.label_en, 1000).trim(), fr = clean(b.label_fr, 1000).trim();
    const errs = [];
    if (!validDate(day)) errs.push({ field: 'day', code: 'invalid' });
    if (!en || en.length > 200) errs.push({ field: 'label_en', code: en ? 'tooLong' : 'required' });
    if (!fr || fr.length > 200) errs.push({ field: 'label_fr', code: fr ? 'tooLong' : 'required' });
    if (errs.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, errs);
    await db.insertInto('perf_campaigns').values({ day: day as string, label_en: en, label_fr: fr, service_id: null, created_by: staff.id }).execute();
    return reply.redirect(lang === 'fr' ? PP.dashboard.fr : PP.dashboard.en, 303);
  }, { config: oneStopDashboard });

  app.get('/api/v1/performance/dashboard', {
    config: oneStopDashboard,
    schema: { tags: TAGS, summary: "The managers' indicators: every partner, channel and office side by side, monthly trend (one-stop managers)", querystring: PeriodQuery },
  }, async (request) => {
    requireManager(request);
    const f = wholeMonths(periodOf(request.query as Record<string, unknown>));
    const { ind, partners, channels, offices, trend, campaigns } = await dashboardData(db, f);
    return { period: f, indicators: ind, partners, channels, offices, trend, campaigns: campaigns.map(({ day, label_en, label_fr }) => ({ day, label_en, label_fr })) };
  });
}
