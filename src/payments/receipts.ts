/**
 * Receipt e-mails: every successful payment whose basket has an e-mail address gets one bilingual receipt (the
 * basket's language first, then the other), with the lines per payee and the payment reference. Durable: the
 * payments.receipts job sends what is due (succeeded, receipt_sent_at null) and marks it; a crash between sending
 * and marking sends it again at worst (at-least-once), never loses it.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import type { Mailer } from '../mail/mailer';
import { formatMoney, t, type Lang } from '../i18n/index';
import { paymentDetail } from './views-data';

export function receiptText(d: NonNullable<Awaited<ReturnType<typeof paymentDetail>>>, lang: Lang, baseUrl: string): string {
  const lines = d.lines.flatMap((l) => l.components.map((c) => `  ${lang === 'fr' ? l.titleFr : l.titleEn} — ${lang === 'fr' ? c.payeeFr : c.payeeEn} (${t(lang, `payments.kind.${c.kind}`)}): ${formatMoney(c.amountCents, lang)}`));
  return [
    t(lang, 'payments.email.intro'),
    `${t(lang, 'payments.reference')}: ${d.reference}`,
    `${t(lang, 'payments.amount')}: ${formatMoney(d.amountCents, lang)}`,
    `${t(lang, 'payments.lines')}:`,
    ...lines,
    `${baseUrl}/${lang === 'fr' ? 'fr/recus' : 'en/receipts'}/${d.id}`,
  ].join('\n');
}

export async function sendReceipts(db: Database, mailer: Mailer, baseUrl: string, limit = 100): Promise<number> {
  const due = await sql<{ id: string; email: string; lang: Lang }>`
    select p.id, b.email, b.lang from payments p join payment_baskets b on b.id = p.basket_id
    where p.status = 'succeeded' and p.receipt_sent_at is null and b.email is not null order by p.confirmed_at limit ${limit}`.execute(db);
  let sent = 0;
  for (const r of due.rows) {
    const d = (await paymentDetail(db, r.id))!;
    const other: Lang = r.lang === 'fr' ? 'en' : 'fr';
    await mailer.send({
      to: r.email,
      subject: `${t(r.lang, 'payments.email.subject', { reference: d.reference })} / ${t(other, 'payments.email.subject', { reference: d.reference })}`,
      text: `${receiptText(d, r.lang, baseUrl)}\n\n----\n\n${receiptText(d, other, baseUrl)}\n`,
      headers: { 'Content-Language': `${r.lang}, ${other}` },
    });
    await sql`update payments set receipt_sent_at = now() where id = ${r.id}`.execute(db);
    sent++;
  }
  return sent;
}
