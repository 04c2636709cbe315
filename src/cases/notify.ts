/**
 * E-mail notifications of status changes, in the client's preferred language (transactional outbox: the row is
 * written in the same transaction as the change, then sent; failures stay 'failed' and are retried by the job).
 */
import type { Database } from '../db/database';
import { t, formatDate, type Lang } from '../i18n/index';
import type { Mailer } from '../mail/mailer';

export interface NotifyContext {
  caseId: string;
  reference: string;
  clientId: string;
  serviceTitle: { en: string; fr: string };
  orgName: { en: string; fr: string };
  dueDate: string | null;
  contactEmail?: string | null;
  client: { email: string | null; preferred_lang: string; contact_preferences: { email?: boolean } | null };
}

/** Queue a status-change (or hand-over) e-mail; returns the outbox id, or null when the client gets no e-mail. */
export async function queueNotification(
  trx: Database,
  ctx: NotifyContext,
  event: NotifyEvent,
  publicBaseUrl: string,
): Promise<number | null> {
  const mail = renderNotification(ctx, event, publicBaseUrl);
  if (!mail) return null;
  const row = await trx.insertInto('case_notifications').values(mail).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export type NotifyEvent = { kind: 'status'; status: string } | { kind: 'referral_accepted' };

/** The outbox row for this event in the client's language, or null when the client gets no e-mail. */
export function renderNotification(ctx: NotifyContext, event: NotifyEvent, publicBaseUrl: string) {
  const to = ctx.client.email || ctx.contactEmail;
  if (!to || ctx.client.contact_preferences?.email === false) return null;
  const lang: Lang = ctx.client.preferred_lang === 'fr' ? 'fr' : 'en';
  const params = {
    reference: ctx.reference,
    service: ctx.serviceTitle[lang],
    org: ctx.orgName[lang],
    status: event.kind === 'status' ? t(lang, `cases.status.${event.status}`) : '',
    due: ctx.dueDate ? formatDate(ctx.dueDate, lang) : '—',
    url: `${publicBaseUrl}/${lang === 'fr' ? 'fr/mon-dossier/demandes' : 'en/my-file/requests'}/${ctx.caseId}`,
  };
  const key = event.kind === 'status' ? 'status' : 'referral';
  return { case_id: ctx.caseId, to_address: to, lang, subject: t(lang, `cases.mail.${key}.subject`, params), body: t(lang, `cases.mail.${key}.body`, params) };
}

/** Send the given outbox rows (or every pending/failed one with fewer than 5 attempts). */
export async function sendNotifications(db: Database, mailer: Mailer, ids?: number[]): Promise<{ sent: number; failed: number }> {
  let q = db.selectFrom('case_notifications').selectAll().where('status', '<>', 'sent').where('attempts', '<', 5);
  if (ids) {
    if (!ids.length) return { sent: 0, failed: 0 };
    q = q.where('id', 'in', ids);
  }
  const rows = await q.orderBy('id').limit(200).execute();
  let sent = 0;
  let failed = 0;
  for (const r of rows) {
    try {
      await mailer.send({ to: r.to_address, subject: r.subject, text: r.body, headers: { 'Content-Language': r.lang } });
      await db.updateTable('case_notifications').set({ status: 'sent', sent_at: new Date(), attempts: r.attempts + 1, last_error: null }).where('id', '=', r.id).execute();
      sent++;
    } catch (err) {
      await db
        .updateTable('case_notifications')
        .set({ status: 'failed', attempts: r.attempts + 1, last_error: String((err as Error).message ?? err).slice(0, 500) })
        .where('id', '=', r.id)
        .execute();
      failed++;
    }
  }
  return { sent, failed };
}
