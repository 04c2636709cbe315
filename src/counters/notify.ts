/**
 * Client notifications of the counters capability: "your turn is near" (e-mail over SMTP, SMS through a pluggable
 * provider) and appointment confirmations and reminders with an iCalendar attachment.
 */
import ical, { ICalCalendarMethod } from 'ical-generator';
import { createMailer, type Mailer } from '../mail/mailer';
import { t, type Lang } from '../i18n/index';

/** An SMS gateway. Register a real one with setSmsProvider(); the default only logs. */
export interface SmsProvider {
  readonly name: string;
  send(to: string, text: string): Promise<void>;
}

export class LoggingSmsProvider implements SmsProvider {
  readonly name = 'log';
  readonly sent: Array<{ to: string; text: string }> = [];
  constructor(private log?: { info: (o: object, m: string) => void }) {}
  async send(to: string, text: string) {
    this.sent.push({ to, text });
    if (this.sent.length > 1000) this.sent.shift();
    this.log?.info({ to: to.replace(/\d(?=\d{2})/g, '•'), length: text.length }, 'sms (logging provider)');
  }
}

export interface Notifier {
  mailer: Mailer;
  sms: SmsProvider;
}

export function createNotifier(log?: { info: (o: object, m: string) => void }, env: NodeJS.ProcessEnv = process.env): Notifier {
  return { mailer: createMailer(env, log), sms: new LoggingSmsProvider(log) };
}

const lng = (l: string): Lang => (l === 'fr' ? 'fr' : 'en');

export async function notifyTurnNear(n: Notifier, ticket: { number: string; language: string; email: string | null; phone: string | null }, officeName: string) {
  const lang = lng(ticket.language);
  const text = t(lang, 'counters.notify.near.text', { number: ticket.number, office: officeName });
  const jobs: Promise<unknown>[] = [];
  if (ticket.email) jobs.push(n.mailer.send({ to: ticket.email, subject: t(lang, 'counters.notify.near.subject', { number: ticket.number }), text, headers: { 'Content-Language': lang } }));
  if (ticket.phone) jobs.push(n.sms.send(ticket.phone, text));
  await Promise.all(jobs);
}

export interface AppointmentMail {
  reference: string;
  starts_at: Date;
  ends_at: Date;
  email: string | null;
  language: string;
  name: string;
  serviceTitle: string;
  officeName: string;
  officeAddress: string;
  timezone: string;
  manageUrl: string;
}

export function appointmentIcs(a: AppointmentMail, method: 'request' | 'cancel' = 'request'): string {
  const lang = lng(a.language);
  const cal = ical({ name: t(lang, 'brand.name'), prodId: { company: 'guichet', product: 'counters', language: lang.toUpperCase() } });
  cal.method(method === 'cancel' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST);
  cal.createEvent({
    id: `${a.reference}@guichet`,
    start: a.starts_at,
    end: a.ends_at,
    summary: t(lang, 'counters.ics.summary', { service: a.serviceTitle }),
    description: t(lang, 'counters.ics.description', { reference: a.reference, url: a.manageUrl }),
    location: `${a.officeName}, ${a.officeAddress}`,
    url: a.manageUrl,
  });
  return cal.toString();
}

export async function sendAppointmentMail(n: Notifier, a: AppointmentMail, kind: 'confirmation' | 'reminder' | 'cancellation') {
  if (!a.email) return;
  const lang = lng(a.language);
  const when = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', { timeZone: a.timezone, dateStyle: 'full', timeStyle: 'short' }).format(a.starts_at);
  // No free text from the booking form: anyone may book with any address, so the e-mail says only what Guichet
  // knows (service, office, time, reference), never the name typed in the form (docs/counters.md, "Abuse").
  const params = { service: a.serviceTitle, office: a.officeName, address: a.officeAddress, when, reference: a.reference, url: a.manageUrl };
  await n.mailer.send({
    to: a.email,
    subject: t(lang, `counters.mail.${kind}.subject`, params),
    text: t(lang, `counters.mail.${kind}.text`, params),
    headers: { 'Content-Language': lang },
    attachments: [{ filename: 'appointment.ics', content: appointmentIcs(a, kind === 'cancellation' ? 'cancel' : 'request'), contentType: `text/calendar; charset=utf-8; method=${kind === 'cancellation' ? 'CANCEL' : 'REQUEST'}` }],
  });
}
