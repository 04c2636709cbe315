/** Appointment e-mails (confirmation, reminder, cancellation) built from the database, and the reminder sweep. */
import type { Database } from '../db/database';
import { pick, type Lang } from '../i18n/index';
import { claimReminders, type Appointment } from './appointments';
import { sendAppointmentMail, type Notifier } from './notify';
import { getOffice } from './queue';

export async function mailAppointment(db: Database, notifier: Notifier, baseUrl: string, a: Appointment, kind: 'confirmation' | 'reminder' | 'cancellation') {
  const office = await getOffice(db, a.office_id);
  const lang: Lang = a.language === 'fr' ? 'fr' : 'en';
  const s = await db.selectFrom('services').select(['title_en', 'title_fr']).where('id', '=', a.service_id).executeTakeFirst();
  await sendAppointmentMail(notifier, {
    reference: a.reference, starts_at: a.starts_at, ends_at: a.ends_at, email: a.email, language: a.language, name: a.name,
    serviceTitle: s ? pick(s, 'title', lang) : a.service_id, officeName: pick(office, 'name', lang), officeAddress: `${office.address}, ${office.city}`,
    timezone: office.timezone, manageUrl: `${baseUrl}/${lang}/${lang === 'fr' ? 'rendez-vous' : 'appointments'}/${a.reference}`,
  }, kind);
}

/** Reminders for appointments in the next 24 hours; each is claimed once (safe on several nodes). */
export async function sendAppointmentReminders(db: Database, notifier: Notifier, baseUrl: string, now = new Date()): Promise<number> {
  const due = await claimReminders(db, now);
  for (const a of due) await mailAppointment(db, notifier, baseUrl, a, 'reminder');
  return due.length;
}
