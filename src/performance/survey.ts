/**
 * Satisfaction on every channel: single-use survey tokens, anonymous responses, scrubbed comments, and the e-mailed
 * invitations after a counter visit or a decided case.
 *
 * - A token is 32 random bytes (`svy_` + base64url); only its SHA-256 is stored, with what the response is about
 *   (service, partner, office, channel) and, for e-mailed invitations, `ref` = the contact event (one invitation per
 *   interaction). Using it sets `used_at` in the same statement that stores the response: one response per token.
 * - A reused, expired, unknown or malformed token gets the same answer (410 SURVEY_LINK_INVALID): nobody learns
 *   whether it existed.
 * - A response stores no name, no token, no event id and only the day; its comment is scrubbed of e-mail addresses,
 *   phone numbers, SIN-like and other long numbers and postal codes before it is stored, so no one ever reads them.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import { t, type Lang } from '../i18n/index';
import type { Mailer } from '../mail/mailer';
import { ROLLUP_TIME_ZONE } from './events';
import { CHANNELS, type Channel } from './tables';

export const COMMENT_MAX = 1200;
const TOKEN_RE = /^svy_[A-Za-z0-9_-]{43}$/;
const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

export const REMOVED = '[…]';
const SCRUBBERS: RegExp[] = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, // e-mail addresses
  /[A-Za-z0-9._%+-]+\s*(?:\(at\)|\[at\]|\sat\s)\s*[A-Za-z0-9.-]+\s*(?:\(dot\)|\[dot\]|\.|\sdot\s)\s*[A-Za-z]{2,}/gi, // obfuscated e-mails
  /(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b/g, // North American phone numbers
  /\b\d{3}[\s-]\d{3}[\s-]\d{3}\b/g, // SIN-like 3-3-3
  /\b[A-Za-z]{0,3}\d[\d\s-]{4,}\d\b/g, // any other run of 6+ digits (file, client, card, health numbers)
  /\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ -]?\d[ABCEGHJ-NPRSTV-Z]\d\b/gi, // Canadian postal codes
];

/** Remove e-mail addresses, phone numbers and identifiers from a comment. */
export function scrubComment(text: string): string {
  let out = text;
  for (const re of SCRUBBERS) out = out.replace(re, REMOVED);
  return out;
}

export interface TokenTarget {
  serviceId?: string | null;
  orgId?: string | null;
  officeId?: string | null;
  channel: Channel;
  /** One invitation per interaction (e.g. 'event:123'); null for a page's anonymous invitation. */
  ref?: string | null;
}

/** Mint a single-use token; with a `ref` that already has an unused token, that one is replaced. */
export async function mintToken(db: Database, target: TokenTarget, ttlSeconds = 30 * 86400): Promise<string | null> {
  if (!CHANNELS.includes(target.channel)) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'channel', code: 'notAllowed' }]);
  const token = 'svy_' + crypto.randomBytes(32).toString('base64url');
  const ins = await sql<{ token_hash: string }>`
    with gone as (delete from perf_survey_tokens where ${target.ref ?? null}::text is not null and ref = ${target.ref ?? null}::text and used_at is null returning ref)
    insert into perf_survey_tokens (token_hash, ref, service_id, org_id, office_id, channel, expires_at)
    select ${sha(token)}, ${target.ref ?? null}::text, ${target.serviceId ?? null}::text,
           coalesce(${target.orgId ?? null}::text, (select owner_org_id from services where id = ${target.serviceId ?? null}::text)),
           ${target.officeId ?? null}::text, ${target.channel}, now() + make_interval(secs => ${ttlSeconds})
    where not exists (select 1 from perf_survey_tokens where ${target.ref ?? null}::text is not null and ref = ${target.ref ?? null}::text and used_at is not null)
    on conflict (ref) do nothing
    returning token_hash`.execute(db);
  return ins.rows.length ? token : null;
}

/** What a valid, unused token is about (for the survey page), or the one refusal. */
export async function checkToken(db: Database, token: string): Promise<{ serviceId: string | null; channel: string }> {
  if (!TOKEN_RE.test(token ?? '')) throw new AppError(410, 'SURVEY_LINK_INVALID');
  const row = await db.selectFrom('perf_survey_tokens').select(['service_id', 'channel'])
    .where('token_hash', '=', sha(token)).where('used_at', 'is', null).where('expires_at', '>', new Date()).executeTakeFirst();
  if (!row) throw new AppError(410, 'SURVEY_LINK_INVALID');
  return { serviceId: row.service_id, channel: row.channel };
}

export interface SurveyAnswer {
  score: unknown; // '1'..'5' or 'na'
  comment?: unknown;
  lang: Lang;
}

/** Store one anonymous response and spend the token, in one statement. */
export async function respond(db: Database, token: string, a: SurveyAnswer): Promise<void> {
  const scoreText = String(a.score ?? '');
  if (!/^(?:[1-5]|na)$/.test(scoreText)) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'score', code: 'required' }]);
  const raw = typeof a.comment === 'string' ? a.comment.replace(/\u0000/g, '').trim() : '';
  if (raw.length > COMMENT_MAX) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'comment', code: 'tooLong' }]);
  if (!TOKEN_RE.test(token ?? '')) throw new AppError(410, 'SURVEY_LINK_INVALID');
  const score = scoreText === 'na' ? null : Number(scoreText);
  const comment = raw ? scrubComment(raw).slice(0, COMMENT_MAX) : null;
  const r = await sql<{ id: number }>`
    with tok as (
      update perf_survey_tokens set used_at = date_trunc('day', now())
      where token_hash = ${sha(token)} and used_at is null and expires_at > now()
      returning service_id, org_id, office_id, channel
    )
    insert into perf_survey_responses (day, service_id, org_id, office_id, channel, score, comment, lang, created_at)
    select (now() at time zone ${ROLLUP_TIME_ZONE})::date, service_id, org_id, office_id, channel, ${score}::smallint, ${comment}::text, ${a.lang},
           date_trunc('day', now())
    from tok
    returning id`.execute(db);
  if (!r.rows.length) throw new AppError(410, 'SURVEY_LINK_INVALID');
}

// ---------------------------------------------------------------- e-mailed invitations

/**
 * Invitations owed: counter visits whose ticket has an e-mail address, decided cases and phone calls about a case
 * (the case's contact e-mail or the client's), counted in the last 7 days and not yet queued. Reads the counters' and cases' tables (read-only).
 */
export async function queueSurveyMails(db: Database): Promise<number> {
  const r = await sql`
    insert into perf_survey_mails (event_id, to_address, lang)
    select e.id, x.email, x.lang
    from perf_events e
    join lateral (
      select t.email, case when t.language = 'fr' then 'fr' else 'en' end as lang
      from ticket_visits v join tickets t on t.id = v.ticket_id
      where e.source = 'counter_visit' and v.id::text = e.source_id and t.email is not null
      union all
      select coalesce(c.contact_email, cl.email), cl.preferred_lang
      from cases c join clients cl on cl.id = c.client_id
      where e.source = 'case' and c.id::text = e.source_id and e.outcome in ('completed', 'not_eligible')
        and coalesce(c.contact_email, cl.email) is not null
      union all
      select coalesce(c.contact_email, cl.email), cl.preferred_lang
      from case_interactions i join cases c on c.id = i.case_id join clients cl on cl.id = c.client_id
      where e.source = 'case_interaction' and e.channel = 'phone' and i.id::text = e.source_id
        and coalesce(c.contact_email, cl.email) is not null
    ) as x on true
    where e.recorded_at > now() - interval '7 days'
      and e.source in ('counter_visit', 'case', 'case_interaction')
      and e.outcome <> 'abandoned'
      and not exists (select 1 from perf_survey_mails m where m.event_id = e.id)
    on conflict (event_id) do nothing`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export function surveyPath(lang: Lang, token: string) {
  return lang === 'fr' ? `/fr/rendement/sondage/${token}` : `/en/performance/survey/${token}`;
}

/** Send the owed invitations (at least once: a crash before marking re-sends, with a fresh token). */
export async function sendSurveyMails(db: Database, mailer: Mailer, baseUrl: string, limit = 100): Promise<number> {
  const due = await db.selectFrom('perf_survey_mails as m').innerJoin('perf_events as e', 'e.id', 'm.event_id')
    .select(['m.event_id', 'm.to_address', 'm.lang', 'e.service_id', 'e.owner_org_id', 'e.office_id', 'e.channel', 'e.source'])
    .where('m.status', '=', 'pending').where('m.attempts', '<', 5).orderBy('m.event_id').limit(limit).execute();
  let sent = 0;
  for (const m of due) {
    const lang: Lang = m.lang === 'fr' ? 'fr' : 'en';
    try {
      const token = await mintToken(db, { ref: `event:${m.event_id}`, serviceId: m.service_id, orgId: m.owner_org_id, officeId: m.office_id, channel: m.channel });
      if (token) {
        const link = baseUrl + surveyPath(lang, token);
        const what = t(lang, m.source === 'counter_visit' ? 'performance.mail.visit' : m.source === 'case_interaction' ? 'performance.mail.call' : 'performance.mail.case');
        await mailer.send({
          to: m.to_address,
          subject: t(lang, 'performance.mail.subject'),
          text: t(lang, 'performance.mail.body', { what, link }),
          headers: { 'Content-Language': lang },
        });
      }
      // The address is not kept once the invitation is sent.
      await db.updateTable('perf_survey_mails').set({ status: 'sent', sent_at: new Date(), to_address: '' }).where('event_id', '=', m.event_id).execute();
      sent++;
    } catch {
      await db.updateTable('perf_survey_mails').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('event_id', '=', m.event_id).execute();
    }
  }
  return sent;
}
