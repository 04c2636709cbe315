/** Bilingual e-mail notifications through a real local SMTP server (smtp-server on 127.0.0.1). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/support/app';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../../test/support/smtp';
import { call, makeClient, makeStaff, serve } from './test/helpers';
import { resetCasesMailer } from './integration';
import { sendNotifications } from './notify';
import { createMailer } from '../mail/mailer';

describe('case notifications over SMTP', () => {
  let t: TestApp;
  let smtp: TestSmtp;
  let inbox: ReceivedMail[] = [];
  let org: string;
  before(async () => {
    smtp = await startSmtp();
    inbox = smtp.inbox;
    process.env.SMTP_URL = smtp.url;
    process.env.MAIL_FROM = 'Guichet <no-reply@guichet.example>';
    resetCasesMailer();
    t = await createTestApp({ catalogue: true });
    org = await makeStaff(t, 'staff-org-mail', 'on-org', ['agent']);
  });
  after(async () => {
    await t.close();
    resetCasesMailer();
    await smtp.close();
  });

  const decode = (raw: string) => {
    // nodemailer uses quoted-printable for non-ASCII text; decode soft breaks and =XX sequences.
    const body = raw.replace(/=\r?\n/g, '');
    return Buffer.from(body.replace(/=([0-9A-F]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  };

  it('sends each status change in the client’s language, with the due date and who handles it', async () => {
    const fr = await makeClient(t, { email: 'chloe@client.example', lang: 'fr' });
    const created = await call(t, fr.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Certificat' });
    assert.equal(created.status, 201);
    const waiting = await call(t, org, 'POST', `/api/v1/cases/${created.body.id}/status`, { status: 'in_progress' });
    assert.equal(waiting.status, 200);
    const mine = inbox.filter((m) => m.to.includes('chloe@client.example'));
    assert.equal(mine.length, 2, 'submitted + in progress');
    const first = decode(mine[0].raw);
    assert.match(first, /Content-Language: fr/);
    assert.match(first, new RegExp(`Subject: .*${created.body.reference}`));
    assert.match(first, /Soumise/);
    assert.match(first, /Bureau du registraire général de l’Ontario/);
    assert.match(first, /\/fr\/mon-dossier\/demandes\//);
    assert.match(first, /Résultat attendu d’ici le : \d{1,2} [a-zéû]+\.? \d{4}/);
    const second = decode(mine[1].raw);
    assert.match(second, /En traitement/);
    const rows = await t.db.selectFrom('case_notifications').selectAll().where('case_id', '=', created.body.id).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => r.status), ['sent', 'sent']);

    const en = await makeClient(t, { email: 'sam@client.example', lang: 'en' });
    const c2 = await call(t, en.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-health-card', summary: 'Renewal' });
    const moh = await makeStaff(t, 'staff-moh-mail', 'on-moh', ['agent']);
    const ref = await call(t, moh, 'POST', `/api/v1/cases/${c2.body.id}/referrals`, { toOrgId: 'on-mto', summary: 'Licence too', clientConsent: true });
    const mto = await makeStaff(t, 'staff-mto-mail', 'on-mto', ['agent']);
    await call(t, mto, 'POST', `/api/v1/cases/${c2.body.id}/referrals/${ref.body.id}/answer`, { accept: true, noRepeat: true });
    const sam = inbox.filter((m) => m.to.includes('sam@client.example')).map((m) => decode(m.raw));
    assert.equal(sam.length, 2);
    assert.match(sam[0], /Content-Language: en/);
    assert.match(sam[0], /Submitted/);
    assert.match(sam[1], /was handed to Ontario Ministry of Transportation/);
    assert.match(sam[1], /Expected by: [A-Z][a-z]+ \d{1,2}, \d{4}/);
    assert.match(sam[1], /do not need to repeat/);
  });

  it('clients without e-mail or who opted out get none; failed sends stay queued and are retried', async () => {
    const none = await makeClient(t, { email: null });
    const before = inbox.length;
    const r = await call(t, none.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-dog-licence', summary: 'Rex' });
    assert.equal(r.status, 201);
    assert.equal(inbox.length, before);
    const outbox = await t.db.selectFrom('case_notifications').selectAll().where('case_id', '=', r.body.id).execute();
    assert.equal(outbox.length, 0);

    // SMTP down: the notification is kept as failed, then the retry sweep delivers it.
    const c = await makeClient(t, { email: 'retry@client.example' });
    const dead = createMailer({ SMTP_URL: 'smtp://127.0.0.1:1' } as NodeJS.ProcessEnv);
    const row = await t.db
      .insertInto('case_notifications')
      .values({ case_id: (await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-dog-licence', summary: 'Felix' })).body.id, to_address: 'retry@client.example', lang: 'en', subject: 'Retry test', body: 'Body' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const failed = await sendNotifications(t.db, dead, [row.id]);
    dead.close();
    assert.equal(failed.failed, 1);
    const kept = await t.db.selectFrom('case_notifications').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(kept.status, 'failed');
    assert.equal(kept.attempts, 1);
    const live = createMailer(process.env);
    const retried = await sendNotifications(t.db, live);
    live.close();
    assert.ok(retried.sent >= 1);
    assert.ok(inbox.some((m) => m.raw.includes('Subject: Retry test')));
  });

  it('tells the client, in their language, that a question handed to another organisation was answered (not the answer itself)', async () => {
    const agent = await makeStaff(t, 'staff-agent-qmail', 'guichet', ['agent']);
    const moh = await makeStaff(t, 'staff-moh-qmail', 'on-moh', ['agent']);
    const ask = async (c: { id: string; cookie: string }) => {
      await serve(t, c.cookie, agent);
      const q = await call(t, agent, 'POST', '/api/v1/cases/questions', { clientId: c.id, toOrgId: 'on-moh', question: 'Does my baby need a health card right away?', summary: 'Baby born in March', clientConsent: true, channel: 'phone' });
      assert.equal(q.status, 201, JSON.stringify(q.body));
      const a = await call(t, moh, 'POST', `/api/v1/cases/questions/${q.body.id}/answer`, { answer: 'Yes: register within 30 days of the birth.', noRepeat: true });
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.deepEqual(Object.keys(a.body), ['id']);
      return q.body.id as string;
    };
    const fr = await makeClient(t, { email: 'question.fr@client.example', lang: 'fr' });
    const qid = await ask(fr);
    const mails = inbox.filter((m) => m.to.includes('question.fr@client.example')).map((m) => decode(m.raw));
    assert.equal(mails.length, 1);
    assert.match(mails[0], /Content-Language: fr/);
    assert.match(mails[0], /Ministère de la Santé/);
    assert.match(mails[0], /\/fr\/mon-dossier\/demandes#my-questions/);
    assert.doesNotMatch(mails[0], /register within 30 days/, 'the answer stays in the client file');
    const row = await t.db.selectFrom('case_notifications').selectAll().where('question_id', '=', qid).executeTakeFirstOrThrow();
    assert.equal(row.case_id, null);
    assert.equal(row.subject, 'Ministère de la Santé de l’Ontario (démo) a répondu à votre question');
    assert.equal(row.status, 'sent');

    // Opted out of e-mail: nothing queued.
    const quiet = await makeClient(t, { email: 'question.quiet@client.example', lang: 'en' });
    await t.db.updateTable('clients').set({ contact_preferences: JSON.stringify({ email: false }) }).where('id', '=', quiet.id).execute();
    const qid2 = await ask(quiet);
    assert.equal((await t.db.selectFrom('case_notifications').select('id').where('question_id', '=', qid2).execute()).length, 0);
    assert.equal(inbox.filter((m) => m.to.includes('question.quiet@client.example')).length, 0);
  });
});
