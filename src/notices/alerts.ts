/**
 * Dead letters of Tell Us Once: the staff alert (visible on the staff page), and ONE bilingual e-mail per dead-lettered
 * notice to the one-stop staff responsible, sent through a transactional outbox.
 *
 * - `recordDeadLetters(trx, ...)` is called in the transaction that marks notices failed (delivery handler, dead-letter
 *   queue): it inserts the alert, one outbox row per notice (`notice_alert_mails`, unique on notice_id: a notice
 *   dead-lettered twice gets one e-mail) and a send job whose id is derived from the notice id (idempotent enqueue).
 * - `sendAlertMails(...)` (queue `notices.alert-mail`, also swept every 5 minutes) claims rows (pending, failed, or
 *   'sending' for longer than the lease, i.e. a worker died), sends them, and marks them sent. Two workers never send
 *   the same row at the same time; only a crash between the SMTP server's acceptance and the 'sent' commit can repeat
 *   an e-mail, and the fixed Message-ID lets mail systems drop that duplicate.
 * - Recipients: GUICHET_NOTICE_ALERT_TO when set; otherwise the active staff of the one-stop organisation with the
 *   role admin or manager (those who handle alerts on /en/staff/tell-us-once). Resolved when sending.
 * - Privacy: the e-mail names the program, the notice id and the error; it carries no client data.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { enqueueMany } from '../jobs/index';
import { t, formatDate } from '../i18n/index';
import type { Mailer } from '../mail/mailer';
import { ONE_STOP_ORG_ID } from '../catalogue/demo-data';
import type { NoticeSettings } from './settings';

export const ALERT_MAIL_QUEUE = 'notices.alert-mail';
export const ALERT_ROLES = ['admin', 'manager'];
/** An e-mail being sent for longer than this is considered abandoned (worker died) and may be claimed again. */
export const ALERT_MAIL_LEASE_S = 600;
export const ALERT_MAIL_MAX_ATTEMPTS = 10;

/** A stable UUID (RFC 4122 layout, version 8 "custom") from parts: idempotent job ids. */
export function uuidFrom(...parts: string[]): string {
  const h = crypto.createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export interface DeadLetter {
  noticeId: string;
  orgId: string;
  message: string;
}

/**
 * Record dead letters inside the caller's transaction: staff alert + e-mail outbox row + send job. Call it only for
 * notices this transaction moved to 'failed' (so a notice settled twice is alerted once).
 */
export async function recordDeadLetters(trx: Database, dead: DeadLetter[]): Promise<void> {
  if (!dead.length) return;
  const alerts = await trx
    .insertInto('notice_alerts')
    .values(dead.map((d) => ({ notice_id: d.noticeId, org_id: d.orgId, kind: 'dead-letter', message: d.message, resolved_at: null, resolved_by: null })))
    .returning(['id', 'notice_id'])
    .execute();
  const mails = await trx
    .insertInto('notice_alert_mails')
    .values(alerts.map((a) => ({ alert_id: a.id, notice_id: a.notice_id! })))
    .onConflict((oc) => oc.column('notice_id').doNothing())
    .returning(['id', 'notice_id'])
    .execute();
  await enqueueMany(
    trx,
    ALERT_MAIL_QUEUE,
    mails.map((m) => ({ id: uuidFrom('notice-alert-mail', m.notice_id), data: { mailId: Number(m.id) } })),
  );
}

/** Who receives dead-letter alerts (see the header). */
export async function alertRecipients(db: Database, settings: Pick<NoticeSettings, 'alertTo'>): Promise<string[]> {
  if (settings.alertTo.length) return [...new Set(settings.alertTo)];
  const rows = await db
    .selectFrom('staff_users')
    .select('email')
    .where('org_id', '=', ONE_STOP_ORG_ID)
    .where('active', '=', true)
    .where(sql<boolean>`roles && ${sql.val(ALERT_ROLES)}::text[]`)
    .orderBy('email')
    .execute();
  return [...new Set(rows.map((r) => r.email).filter(Boolean))];
}

/** The bilingual alert e-mail of one outbox row (English first, then French; no client data). */
export async function buildAlertMail(db: Database, mailId: number, publicBaseUrl: string) {
  const r = await db
    .selectFrom('notice_alert_mails as m')
    .innerJoin('notice_alerts as a', 'a.id', 'm.alert_id')
    .innerJoin('notices as n', 'n.id', 'm.notice_id')
    .innerJoin('notice_subscriptions as s', 's.id', 'n.subscription_id')
    .innerJoin('organisations as o', 'o.id', 'n.org_id')
    .select([
      'm.notice_id', 'a.created_at', 'n.event_type', 'n.attempts', 'n.last_error', 'n.first_attempt_at', 'n.declaration_id',
      's.program_en', 's.program_fr', 'o.name_en as org_en', 'o.name_fr as org_fr',
    ])
    .where('m.id', '=', mailId)
    .executeTakeFirst();
  if (!r) return null;
  const part = (lang: 'en' | 'fr') => {
    const params = {
      program: lang === 'fr' ? r.program_fr : r.program_en,
      org: lang === 'fr' ? r.org_fr : r.org_en,
      event: t(lang, `notices.event.${r.event_type}`),
      notice: r.notice_id,
      declaration: r.declaration_id,
      attempts: r.attempts,
      since: r.first_attempt_at ? formatDate(r.first_attempt_at, lang, { dateStyle: 'medium', timeStyle: 'short' }) : '—',
      failed: formatDate(r.created_at, lang, { dateStyle: 'medium', timeStyle: 'short' }),
      error: r.last_error ?? '—',
      url: `${publicBaseUrl}${lang === 'fr' ? '/fr/personnel/dites-le-nous-une-fois' : '/en/staff/tell-us-once'}`,
    };
    return { subject: t(lang, 'notices.alertMail.subject', params), body: t(lang, 'notices.alertMail.body', params) };
  };
  const en = part('en');
  const fr = part('fr');
  return {
    subject: `${en.subject} / ${fr.subject}`,
    text: `${t('fr', 'notices.alertMail.frenchFollows')}\n\n${en.body}\n\n------------------------------------------------------------\n\n${fr.body}\n`,
    messageId: `<notice-dead-letter-${r.notice_id}@guichet>`,
  };
}

/**
 * Send alert e-mails: the given outbox rows, or (sweep) every unsent row with attempts left. Returns counts (the job
 * handler throws when some failed, so that pg-boss retries it with backoff; the sweep retries them too).
 */
export async function sendAlertMails(
  db: Database,
  mailer: Mailer,
  opts: { settings: Pick<NoticeSettings, 'alertTo'>; publicBaseUrl: string; ids?: number[]; log?: { warn: (o: object, m: string) => void } },
): Promise<{ sent: number; failed: number; skipped: number }> {
  if (opts.ids && !opts.ids.length) return { sent: 0, failed: 0, skipped: 0 };
  let q = db
    .updateTable('notice_alert_mails')
    .set({ status: 'sending', claimed_at: sql<Date>`now()`, attempts: sql<number>`attempts + 1` })
    .where('attempts', '<', ALERT_MAIL_MAX_ATTEMPTS)
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['pending', 'failed']),
        eb.and([eb('status', '=', 'sending'), eb('claimed_at', '<', sql<Date>`now() - make_interval(secs => ${ALERT_MAIL_LEASE_S})`)]),
      ]),
    );
  if (opts.ids) q = q.where('id', 'in', opts.ids);
  const claimed = await q.returning(['id', 'notice_id']).execute();
  let sent = 0;
  let failed = 0;
  let skipped = 0;
  const to = claimed.length ? await alertRecipients(db, opts.settings) : [];
  for (const row of claimed) {
    const id = Number(row.id);
    try {
      if (!to.length) throw new Error('no recipients: set GUICHET_NOTICE_ALERT_TO or give a one-stop staff member the admin or manager role');
      const mail = await buildAlertMail(db, id, opts.publicBaseUrl);
      if (!mail) {
        skipped++;
        await db.updateTable('notice_alert_mails').set({ status: 'failed', last_error: 'notice or alert no longer exists', attempts: ALERT_MAIL_MAX_ATTEMPTS }).where('id', '=', id).execute();
        continue;
      }
      await mailer.send({ to: to.join(', '), subject: mail.subject, text: mail.text, headers: { 'Content-Language': 'en, fr', 'Message-ID': mail.messageId } });
      await db.updateTable('notice_alert_mails').set({ status: 'sent', sent_at: new Date(), to_addresses: to, last_error: null }).where('id', '=', id).execute();
      sent++;
    } catch (err) {
      failed++;
      const message = String((err as Error)?.message ?? err).slice(0, 500);
      opts.log?.warn({ notice: row.notice_id, err: message }, 'dead-letter alert e-mail not sent');
      await db.updateTable('notice_alert_mails').set({ status: 'failed', last_error: message }).where('id', '=', id).execute();
    }
  }
  return { sent, failed, skipped };
}
