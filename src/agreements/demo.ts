/**
 * Demo agreements and fee schedules (idempotent; added on start outside tests, see jobs.ts), with domain.md's
 * figures: the Ministry of Transportation's driver's licence renewal ($90 statutory fee; the one-stop's share of
 * $2.00 online and $0.50 at kiosks is taken out of it, Maine-style; in person the fee is remitted in full, as at
 * ServiceOntario) and the City of Ottawa's pet licence ($19; $1.00 online, $0.50 at kiosks, netted invoices, monthly).
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { ONE_STOP_ORG_ID } from '../catalogue/demo-data';
import { liveSnapshot } from './model';

export function demoTerm(now = new Date()) {
  const y = now.getUTCFullYear();
  return { start: `${y}-01-01`, end: `${y + 1}-12-31` };
}

interface DemoAgreement {
  partner: string;
  title_en: string;
  title_fr: string;
  frequency: 'daily' | 'weekly' | 'monthly';
  net: boolean;
  services: Array<{ service_id: string; channels: string[]; fees: Array<{ channel: string; statutory: number; share: number }> }>;
}

const DEMO: DemoAgreement[] = [
  {
    partner: 'on-mto',
    title_en: 'Service agreement: Ministry of Transportation (demo)',
    title_fr: 'Entente de service : ministère des Transports (démo)',
    frequency: 'daily',
    net: false,
    services: [{
      service_id: 'demo-driver-licence', channels: ['online', 'in_person', 'kiosk'],
      fees: [{ channel: 'online', statutory: 9000, share: 200 }, { channel: 'kiosk', statutory: 9000, share: 50 }, { channel: 'in_person', statutory: 9000, share: 0 }],
    }],
  },
  {
    partner: 'ottawa',
    title_en: 'Service agreement: City of Ottawa (demo)',
    title_fr: 'Entente de service : Ville d’Ottawa (démo)',
    frequency: 'monthly',
    net: true,
    services: [{
      service_id: 'demo-dog-licence', channels: ['online', 'in_person', 'kiosk'],
      fees: [{ channel: 'online', statutory: 1900, share: 100 }, { channel: 'kiosk', statutory: 1900, share: 50 }, { channel: 'in_person', statutory: 1900, share: 0 }],
    }],
  },
];

/** Adds the demo agreements once (recognised by their titles). Returns how many were added. */
export async function seedDemoAgreements(db: Database, now = new Date()): Promise<number> {
  const have = await db.selectFrom('services').select('id').where('id', 'in', DEMO.flatMap((d) => d.services.map((s) => s.service_id))).execute();
  if (have.length === 0) return 0;
  const term = demoTerm(now);
  let added = 0;
  for (const d of DEMO) {
    if (!d.services.every((s) => have.some((h) => h.id === s.service_id))) continue;
    const done = await db.transaction().execute(async (trx) => {
      // Server and worker may both start at once: one seeds, the other finds it done.
      await sql`select pg_advisory_xact_lock(600600)`.execute(trx);
      const exists = await trx.selectFrom('agreements').select('id').where('title_en', '=', d.title_en).executeTakeFirst();
      if (exists) return false;
      const { id } = await trx
        .insertInto('agreements')
        .values({
          partner_org_id: d.partner, one_stop_org_id: ONE_STOP_ORG_ID, status: 'active', title_en: d.title_en, title_fr: d.title_fr,
          summary_en: 'The one-stop delivers these services on the partner’s behalf online, at kiosks and at its counters. The partner stays the custodian of its data.',
          summary_fr: 'Le guichet unique offre ces services au nom du partenaire en ligne, aux bornes et à ses comptoirs. Le partenaire demeure le gardien de ses données.',
          integration_level: 'complete', term_start: term.start, term_end: term.end, renewal: 'annual_review', remittance_frequency: d.frequency,
          net_invoices: d.net, decision_date: term.start, decision_reference: `BOARD-${term.start.slice(0, 4)}-DEMO-${d.partner.toUpperCase()}`,
          accepted_at: new Date(`${term.start}T12:00:00Z`),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx.insertInto('agreement_services').values(d.services.map((s) => ({ agreement_id: id, service_id: s.service_id, channels: s.channels }))).execute();
      const snap = await liveSnapshot(trx, id);
      await trx.insertInto('agreement_versions').values({ agreement_id: id, version: 1, status: 'accepted', snapshot: JSON.stringify(snap), base: null, decision_date: term.start, decision_reference: `BOARD-${term.start.slice(0, 4)}-DEMO-${d.partner.toUpperCase()}` }).execute();
      await trx.insertInto('agreement_events').values({ agreement_id: id, version: 1, action: 'seeded', staff_id: null, detail: 'demo' }).execute();
      for (const s of d.services) {
        for (const f of s.fees) {
          await trx.insertInto('fee_versions').values({
            service_id: s.service_id, channel: f.channel, valid_from: term.start, valid_to: null, agreement_id: id,
            statutory_cents: f.statutory, statutory_payee_org_id: d.partner,
            service_fee_basis: f.share ? 'fixed' : 'none', service_fee_value: f.share, service_fee_mode: 'included',
          }).execute();
        }
      }
      return true;
    });
    if (done) added++;
  }
  return added;
}
