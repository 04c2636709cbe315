/**
 * Dead letters alert staff by e-mail, once per dead letter, through the outbox and a real local SMTP server
 * (smtp-server on 127.0.0.1): the delivery handler's 72-hour window (shortened here) and the dead-letter queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { clientCookie, createTestClient } from '../../test/support/clients';
import { startPartner, type Partner } from '../../test/support/partners';
import { startSmtp, type TestSmtp } from '../../test/support/smtp';
import { addressChange as data, webhookSubscription } from '../../test/support/subscriptions';
import { waitFor } from '../../test/support/wait';
import { saveSubscription, type SubscriptionInput } from './service';
import { alertRecipients, recordDeadLetters, sendAlertMails, ALERT_MAIL_QUEUE } from './alerts';
import { DEAD_QUEUE } from './jobs';
import { createMailer } from '../mail/mailer';

interface Received {
  to: string[];
  raw: string;
  subject: string;
}

/** The Subject header, unfolded, with its RFC 2047 encoded words (Q or B, UTF-8) decoded. */
function subjectOf(raw: string): string {
  const m = /^Subject:(.*(?:\r?\n[ \t].*)*)/m.exec(raw);
  if (!m) return '';
  return m[1]
    .replace(/\r?\n[ \t]/g, ' ')
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    )
    .trim();
}

/** nodemailer uses quoted-printable for non-ASCII text: undo soft breaks and =XX sequences. */
const decode = (raw: string) =>
  Buffer.from(raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');

const sub = (over: Partial<SubscriptionInput>) => webhookSubscription({ orgId: 'on-org', programEn: 'Failing program', programFr: 'Programme défaillant', ...over });

describe('dead-letter alert e-mails', () => {
  let t: TestApp;
  let smtp: TestSmtp;
  let failing: Partner;
  /** The messages received, decoded, with their subject. */
  const inbox = (): Received[] => smtp.inbox.map((m) => ({ to: m.to, raw: decode(m.raw), subject: subjectOf(m.raw) }));

  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({
      catalogue: true,
      background: true,
      env: {
        SMTP_URL: smtp.url,
        MAIL_FROM: 'Guichet <no-reply@guichet.example>',
        GUICHET_NOTICE_RETRY_BASE_S: '0.2',
        GUICHET_NOTICE_RETRY_MAX_S: '0.4',
        GUICHET_NOTICE_RETRY_WINDOW_S: '1.5',
        GUICHET_NOTICE_HTTP_TIMEOUT_MS: '400',
        GUICHET_NOTICE_POLL_S: '0.5',
        GUICHET_JOBS_MAINTENANCE_S: '1',
      },
    });
    failing = await startPartner({ behaviour: 'fail' });
    const r = await saveSubscription(t.db, sub({ id: 'dl-fail', webhookUrl: failing.url }), { staffId: 'staff-admin', allowLoopback: true });
    failing.setSecret(r.signingSecret!);
    await saveSubscription(t.db, sub({ id: 'dl-pull', orgId: 'cra-arc', programEn: 'Pull program', programFr: 'Programme en lot', delivery: 'pull' }), { staffId: 'staff-admin', allowLoopback: true });
  });

  after(async () => {
    await t?.close();
    await failing?.close();
    await smtp?.close();
  });

  const declare = async (recipients: string[]) => {
    const cookie = await clientCookie(t.app, t.db, await createTestClient(t.db));
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/me/declarations', headers: { cookie, 'x-csrf-token': csrfFrom(cookie) }, payload: { eventType: 'change-of-address', data, recipients } });
    assert.equal(res.statusCode, 201, res.body);
    return (res.json() as { notices: Array<{ id: string; subscriptionId: string }> }).notices;
  };
  const mailsFor = (noticeId: string) => inbox().filter((m) => m.raw.includes(noticeId));

  test('a notice that fails for the whole retry window is dead-lettered and the one-stop admins and managers get ONE bilingual e-mail', async () => {
    const [n] = await declare(['dl-fail']);
    await waitFor('notice failed', async () => (await t.db.selectFrom('notices').select('status').where('id', '=', n.id).executeTakeFirstOrThrow()).status === 'failed');
    const mail = await waitFor('alert e-mail', async () => mailsFor(n.id)[0]);
    // default recipients: active staff of the one-stop organisation with the admin or manager role
    assert.deepEqual([...mail.to].sort(), ['admin@guichet.example', 'reviewer@guichet.example']);
    assert.deepEqual([...mail.to].sort(), await alertRecipients(t.db, { alertTo: [] }));
    assert.equal(mail.subject, 'Tell us once: a notice to Failing program could not be delivered / Dites-le-nous une fois : un avis à Programme défaillant n’a pas pu être livré');
    assert.match(mail.raw, /Content-Language: en, fr/);
    assert.match(mail.raw, new RegExp(`Message-ID:\\s+<notice-dead-letter-${n.id}@guichet>`));
    assert.match(mail.raw, /\(Le français suit\.\)/);
    assert.match(mail.raw, /Program: Failing program \(/);
    assert.match(mail.raw, /Programme : Programme défaillant \(/);
    assert.match(mail.raw, /Last error: HTTP 500/);
    assert.match(mail.raw, /Dernière erreur : HTTP 500/);
    assert.match(mail.raw, /\/en\/staff\/tell-us-once/);
    assert.match(mail.raw, /\/fr\/personnel\/dites-le-nous-une-fois/);
    assert.doesNotMatch(mail.raw, /50 Rideau/, 'no client data in the alert');
    // the SMTP server has the message before the job commits 'sent': wait for the commit
    const outbox = await waitFor('outbox row sent', async () => {
      const rows = await t.db.selectFrom('notice_alert_mails').selectAll().where('notice_id', '=', n.id).execute();
      return rows.length === 1 && rows[0].status === 'sent' ? rows : undefined;
    });
    assert.equal(outbox.length, 1);
    assert.deepEqual([...(outbox[0].to_addresses ?? [])].sort(), ['admin@guichet.example', 'reviewer@guichet.example']);
    // the staff page still shows the alert
    const alerts = await t.db.selectFrom('notice_alerts').select(['id', 'kind']).where('notice_id', '=', n.id).execute();
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].kind, 'dead-letter');
    const staffPage = await t.app.inject({ method: 'GET', url: '/fr/personnel/dites-le-nous-une-fois', headers: { cookie: await staffCookie(t.app, 'staff-admin'), accept: 'text/html' } });
    assert.equal(staffPage.statusCode, 200);
    assert.ok(staffPage.body.includes('data-alert-mail="sent"'));
    assert.ok(staffPage.body.includes('Le personnel a été alerté par courriel le'));

    // exactly once: recording the same dead letter again, and sweeping the outbox, send nothing more
    await t.db.transaction().execute((trx) => recordDeadLetters(trx, [{ noticeId: n.id, orgId: 'on-org', message: 'again' }]));
    assert.equal((await t.db.selectFrom('notice_alert_mails').select('id').where('notice_id', '=', n.id).execute()).length, 1);
    const mailer = createMailer({ SMTP_URL: smtp.url } as NodeJS.ProcessEnv);
    const swept = await sendAlertMails(t.db, mailer, { settings: { alertTo: [] }, publicBaseUrl: t.config.publicBaseUrl });
    mailer.close();
    assert.equal(swept.sent, 0);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(mailsFor(n.id).length, 1);
  });

  test('a delivery job that dies repeatedly (dead-letter queue) also alerts once', async () => {
    const [n] = await declare(['dl-pull']); // pull notices wait for the partner: pending, no delivery job
    await t.background!.boss.send(DEAD_QUEUE, { noticeId: n.id });
    await t.background!.boss.send(DEAD_QUEUE, { noticeId: n.id });
    await waitFor('notice failed', async () => (await t.db.selectFrom('notices').select('status').where('id', '=', n.id).executeTakeFirstOrThrow()).status === 'failed');
    const mail = await waitFor('alert e-mail', async () => mailsFor(n.id)[0]);
    assert.match(mail.raw, /Pull program/);
    assert.match(mail.raw, /delivery job failed repeatedly/);
    await new Promise((r) => setTimeout(r, 6000)); // the dead-letter queue polls every 5 s: both jobs have run
    assert.equal(mailsFor(n.id).length, 1);
    assert.equal((await t.db.selectFrom('notice_alerts').select('id').where('notice_id', '=', n.id).execute()).length, 1);
  });

  test('when SMTP is down the e-mail stays in the outbox as failed, and the sweep sends it later; a configured address replaces the staff list', async () => {
    const [n] = await declare(['dl-pull']);
    // a dead letter recorded without its send job (as if the job were lost): only the outbox row exists
    await t.db.transaction().execute(async (trx) => {
      await trx.updateTable('notices').set({ status: 'failed', failed_at: new Date() }).where('id', '=', n.id).execute();
      const a = await trx.insertInto('notice_alerts').values({ notice_id: n.id, org_id: 'cra-arc', kind: 'dead-letter', message: 'test', resolved_at: null, resolved_by: null }).returning('id').executeTakeFirstOrThrow();
      await trx.insertInto('notice_alert_mails').values({ alert_id: a.id, notice_id: n.id }).execute();
    });
    const down = createMailer({ SMTP_URL: 'smtp://127.0.0.1:1' } as NodeJS.ProcessEnv);
    const r1 = await sendAlertMails(t.db, down, { settings: { alertTo: ['ops@guichet.example'] }, publicBaseUrl: t.config.publicBaseUrl });
    down.close();
    assert.equal(r1.failed, 1);
    const kept = await t.db.selectFrom('notice_alert_mails').selectAll().where('notice_id', '=', n.id).executeTakeFirstOrThrow();
    assert.equal(kept.status, 'failed');
    assert.equal(kept.attempts, 1);
    assert.ok(kept.last_error);
    // the scheduled sweep (a job without data on the same queue) retries it, through the worker's mailer
    assert.ok((await t.background!.boss.getSchedules()).some((s: { name: string }) => s.name === ALERT_MAIL_QUEUE));
    const live = createMailer({ SMTP_URL: smtp.url } as NodeJS.ProcessEnv);
    const r2 = await sendAlertMails(t.db, live, { settings: { alertTo: ['ops@guichet.example', 'ops@guichet.example'] }, publicBaseUrl: t.config.publicBaseUrl });
    live.close();
    assert.equal(r2.sent, 1);
    const mail = await waitFor('retried e-mail', async () => mailsFor(n.id)[0]);
    assert.deepEqual(mail.to, ['ops@guichet.example']);
    assert.equal((await t.db.selectFrom('notice_alert_mails').select('status').where('notice_id', '=', n.id).executeTakeFirstOrThrow()).status, 'sent');
  });
});
