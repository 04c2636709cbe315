/**
 * The form of an agreement's billing rates, for the one-stop's managers, on the agreement's staff pages (linked from
 * the agreement's page): per interaction by channel with information-only contacts free or priced, per completed
 * transaction, or a fixed yearly amount billed monthly; the dates the rates hold; optionally only some of the
 * agreement's services. Amounts are typed in dollars and kept in integer cents. A plain form (CSRF, no JavaScript,
 * POST-redirect-GET); refused input (400 INVALID_AMOUNT / VALIDATION_ERROR, 409 TERMS_OVERLAP) is shown in an error
 * summary in the page's language and nothing is written (setTerms checks everything before its one transaction).
 * The same rules as PUT /api/v1/billing/terms/{agreementId}.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, describeError, type FieldError } from '../http/errors';
import { requireStaff } from '../http/session';
import { formatDate, parseMoneyInput, t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { isUuid } from '../db/ids';
import { PATHS as AGREEMENT_PATHS } from '../agreements/pages';
import { CHANNELS, FREQUENCIES, getTerms, isBillingManager, RATE_MODELS, setTerms, type TermsInput } from './billing';
import type { BillingFrequency, RateModel } from './tables';
import { billingOwners } from './owners';

export const RATES_PATH = AGREEMENT_PATHS.billingRates;

/** The form's values (strings, as typed) from the rates in force, or the defaults for an agreement without rates. */
function valuesOf(terms: Awaited<ReturnType<typeof getTerms>>, termStart: string): Record<string, string | string[]> {
  const dollars = (c: number | null | undefined) => (c == null ? '' : (Number(c) / 100).toFixed(2));
  if (!terms) return { model: 'per_interaction', frequency: 'monthly', info_mode: 'free', info: '', transaction: '', yearly: '', valid_from: termStart, valid_to: '', service_ids: [] };
  const v: Record<string, string | string[]> = {
    model: terms.model, frequency: terms.frequency,
    info_mode: Number(terms.info_only_cents) > 0 ? 'priced' : 'free', info: Number(terms.info_only_cents) > 0 ? dollars(terms.info_only_cents) : '',
    transaction: terms.model === 'per_transaction' ? dollars(terms.transaction_cents) : '',
    yearly: terms.model === 'fixed_yearly' ? dollars(terms.yearly_cents) : '',
    valid_from: terms.valid_from, valid_to: terms.valid_to ?? '', service_ids: terms.service_ids ?? [],
  };
  for (const c of CHANNELS) v[`rate_${c}`] = dollars(terms.channelRates[c]);
  return v;
}

/** The form's field (its input id) of each of setTerms' fields. */
function formField(field: string): string {
  if (field.startsWith('channelRates.')) return `rate_${field.slice('channelRates.'.length)}`;
  return ({ channelRates: `rate_${CHANNELS[0]}`, infoOnlyCents: 'info', transactionCents: 'transaction', yearlyCents: 'yearly', validFrom: 'valid_from', validTo: 'valid_to', serviceIds: 'service_ids' } as Record<string, string>)[field] ?? field;
}

/**
 * The rates typed in the form, as setTerms takes them. Amounts in dollars become integer cents; an amount that is not
 * one is a field error (all of them reported at once). Only the chosen model's amounts are sent.
 */
function termsFromForm(body: Record<string, unknown>): { input: Omit<TermsInput, 'agreementId'>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
  const money = (k: string): number | undefined => {
    const m = parseMoneyInput(body[k]);
    if (m.code) errors.push({ field: k, code: m.code });
    return m.cents ?? undefined;
  };
  const model = str('model') as RateModel;
  const frequency = str('frequency') as BillingFrequency;
  if (!RATE_MODELS.includes(model)) errors.push({ field: 'model', code: 'required' });
  if (!FREQUENCIES.includes(frequency)) errors.push({ field: 'frequency', code: 'required' });
  const input: Omit<TermsInput, 'agreementId'> = { model, frequency, validFrom: str('valid_from'), validTo: str('valid_to') || null };
  const list = Array.isArray(body.service_ids) ? body.service_ids : body.service_ids ? [body.service_ids] : [];
  input.serviceIds = list.filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (model === 'per_interaction') {
    const rates: Record<string, number> = {};
    for (const c of CHANNELS) {
      const cents = money(`rate_${c}`);
      if (cents !== undefined) rates[c] = cents;
    }
    input.channelRates = rates;
    const mode = str('info_mode');
    if (mode !== 'free' && mode !== 'priced') errors.push({ field: 'info_mode', code: 'required' });
    if (mode === 'priced') {
      const info = money('info');
      if (info === undefined && !errors.some((e) => e.field === 'info')) errors.push({ field: 'info', code: 'required' });
      input.infoOnlyCents = info;
    } else input.infoOnlyCents = 0;
  } else if (model === 'per_transaction') {
    input.transactionCents = money('transaction');
    if (input.transactionCents === undefined && !errors.some((e) => e.field === 'transaction')) errors.push({ field: 'transaction', code: 'required' });
  } else if (model === 'fixed_yearly') {
    input.yearlyCents = money('yearly');
    if (input.yearlyCents === undefined && !errors.some((e) => e.field === 'yearly')) errors.push({ field: 'yearly', code: 'required' });
  }
  return { input, errors };
}

export async function ratesPageRoutes(app: FastifyInstance, deps: AppDeps) {
  const { db } = deps;
  const o = billingOwners(db);
  const config = o.ratesPage;

  /** The agreement (404 when there is none) and the caller, a one-stop manager (403 otherwise, as the API). */
  async function context(request: FastifyRequest) {
    const s = requireStaff(request);
    if (!isBillingManager(s)) throw new AppError(403, 'FORBIDDEN');
    const id = (request.params as { id: string }).id;
    const a = isUuid(id)
      ? await db.selectFrom('agreements as a').innerJoin('organisations as o', 'o.id', 'a.partner_org_id')
        .select(['a.id', 'a.number', 'a.title_en', 'a.title_fr', 'a.term_start', 'o.name_en', 'o.name_fr']).where('a.id', '=', id).executeTakeFirst()
      : undefined;
    if (!a) throw new AppError(404, 'AGREEMENT_NOT_FOUND');
    return { s, a };
  }

  async function render(reply: FastifyReply, lang: Lang, a: Awaited<ReturnType<typeof context>>['a'], opts: { values?: Record<string, unknown>; errors?: FieldError[]; message?: string; saved?: boolean } = {}, status = 200) {
    const [terms, services] = await Promise.all([
      getTerms(db, a.id),
      db.selectFrom('agreement_services as x').innerJoin('services as s', 's.id', 'x.service_id').select(['x.service_id', 's.title_en', 's.title_fr']).where('x.agreement_id', '=', a.id).orderBy('x.service_id').execute(),
    ]);
    const values = (opts.values ?? valuesOf(terms, a.term_start)) as Record<string, unknown>;
    const chosen = new Set((Array.isArray(values.service_ids) ? values.service_ids : values.service_ids ? [values.service_ids] : []) as string[]);
    const errors = (opts.errors ?? []).map((e) => ({ field: formField(e.field), text: e.message ?? t(lang, `field.${e.code}`) }));
    const fieldErrors = Object.fromEntries(errors.map((e) => [e.field, e.text]));
    const errorList = errors.map((e) => ({ text: `${t(lang, `billing.rates.field.${e.field.startsWith('rate_') ? 'rate' : e.field}`, { channel: e.field.startsWith('rate_') ? t(lang, `billing.channel.${e.field.slice(5)}`) : '' })}${t(lang, 'billing.rates.labelSeparator')}${e.text}`, href: `#${e.field}` }));
    if (opts.message) errorList.push({ text: opts.message, href: '#valid_from' });
    return reply.page('billing/views/rates.njk', {
      title: t(lang, 'billing.rates.title', { number: a.number }),
      partner: lang === 'fr' ? a.name_fr : a.name_en,
      agreementTitle: lang === 'fr' ? a.title_fr : a.title_en,
      back: fillPath(AGREEMENT_PATHS.view[lang], { id: a.id }),
      action: fillPath(RATES_PATH[lang], { id: a.id }),
      current: terms ? { updatedAt: formatDate(terms.updated_at, lang), from: formatDate(terms.valid_from, lang), to: terms.valid_to ? formatDate(terms.valid_to, lang) : null } : null,
      values,
      channels: CHANNELS.map((c) => ({ value: c, text: t(lang, `billing.channel.${c}`) })),
      services: services.map((s) => ({ value: s.service_id, text: `${lang === 'fr' ? s.title_fr : s.title_en} (${s.service_id})`, checked: chosen.has(s.service_id) })),
      errorList, fieldErrors, saved: opts.saved ?? false,
    }, status);
  }

  bilingualRoute(app, 'GET', RATES_PATH, async (request, reply, lang) => {
    if (!request.staff) return reply.redirect(lang === 'fr' ? '/fr/personnel/connexion' : '/en/staff/login', 303);
    const { a } = await context(request);
    return render(reply, lang, a, { saved: (request.query as { saved?: string } | undefined)?.saved === '1' });
  }, { config });

  bilingualRoute(app, 'POST', RATES_PATH, async (request, reply, lang) => {
    const { s, a } = await context(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { input, errors } = termsFromForm(body);
    if (errors.length) return render(reply, lang, a, { values: body, errors }, 400);
    try {
      await setTerms(db, { id: s.id, orgId: s.orgId, roles: s.roles }, { ...input, agreementId: a.id });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || err.status === 403 || err.status === 404) throw err;
      const d = describeError(err, lang);
      return render(reply, lang, a, { values: body, errors: err.details ?? [], message: err.details?.length ? undefined : d.message }, d.status);
    }
    return reply.redirect(`${fillPath(RATES_PATH[lang], { id: a.id })}?saved=1`, 303);
  }, { config });
}
