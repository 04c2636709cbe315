/**
 * Seeding: on an empty database, import the real GC Service Inventory (seed/gc-service-inventory) and add the demo
 * set (src/catalogue/demo-data.ts). Each part is one transaction; running again on a seeded database does nothing.
 */
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database';
import { importGcInventory } from './import-gc';
import { demoEvents, demoOffices, demoOrgs, demoPostalAreas, demoServices, demoStaff } from './demo-data';

export async function seedIfEmpty(db: Database, seedDir: string, log?: Pick<FastifyBaseLogger, 'info' | 'warn'>) {
  const has = await db.selectFrom('services').select('id').where('source', '=', 'gc-inventory').limit(1).executeTakeFirst();
  let imported: Awaited<ReturnType<typeof importGcInventory>> | null = null;
  if (!has) {
    imported = await importGcInventory(db, path.join(seedDir, 'gc-service-inventory'));
    for (const p of imported.problems) log?.warn(p, 'inventory row rejected');
  }
  const demo = await seedDemo(db);
  if (!demo) await ensureDemoStaff(db);
  if (!imported && !demo) return null;
  return {
    services: imported?.services.total ?? 0,
    standards: imported?.standards ?? 0,
    organisations: imported ? imported.organisations.inserted : 0,
    demo,
  };
}

/** A database seeded before a demo person was added gets them (their organisation must be there; never changes one). */
export async function ensureDemoStaff(db: Database): Promise<void> {
  const demoInstalled = await db.selectFrom('organisations').select('id').where('id', '=', demoOrgs[0].id).executeTakeFirst();
  if (!demoInstalled) return;
  const orgs = new Set((await db.selectFrom('organisations').select('id').where('id', 'in', [...new Set(demoStaff.map((s) => s.org_id))]).execute()).map((o) => o.id));
  const known = new Set((await db.selectFrom('staff_users').select('id').execute()).map((s) => s.id));
  const missing = demoStaff.filter((s) => !known.has(s.id) && orgs.has(s.org_id));
  if (missing.length) await db.insertInto('staff_users').values(missing.map((s) => ({ ...s, is_demo: true }))).onConflict((oc) => oc.column('id').doNothing()).execute();
}

/** Adds the demo set once (it is recognised by the one-stop organisation's row). Returns false when already there. */
export async function seedDemo(db: Database): Promise<boolean> {
  const exists = await db.selectFrom('organisations').select('id').where('id', '=', demoOrgs[0].id).executeTakeFirst();
  if (exists) return false;
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('organisations')
      .values(
        demoOrgs.map((o) => ({
          id: o.id, name_en: o.name_en, name_fr: o.name_fr, acronym_en: o.acronym_en, acronym_fr: o.acronym_fr, level: o.level,
          jurisdiction: o.jurisdiction, parent_id: o.parent_id ?? null, website_en: o.website_en ?? null, website_fr: o.website_fr ?? null,
          phone: o.phone ?? null, is_demo: true, source: 'demo',
        })),
      )
      .execute();
    const knownServices = new Set((await trx.selectFrom('services').select('id').execute()).map((s) => s.id));
    for (const s of demoServices) {
      await trx
        .insertInto('services')
        .values({
          id: s.id, source: 'demo', identifier: s.id, owner_org_id: s.owner, title_en: s.title_en, title_fr: s.title_fr,
          description_en: s.description_en, description_fr: s.description_fr, keywords_en: s.keywords_en, keywords_fr: s.keywords_fr,
          audiences: s.audiences, thematic_areas: s.thematic_areas, fee_applies: Boolean(s.costs?.length), online_status: '{}',
          url_en: s.channels.find((c) => c.url_en)?.url_en ?? null, url_fr: s.channels.find((c) => c.url_fr)?.url_fr ?? null,
          status: 'published', is_demo: true, agent_notes_en: s.agent_notes_en ?? null, agent_notes_fr: s.agent_notes_fr ?? null,
          guarantee_days: s.guarantee_days ?? null, published_at: new Date(), reviewed_at: new Date(),
        })
        .execute();
      knownServices.add(s.id);
      const delivering = new Set([s.owner, ...(s.delivered_by ?? [])]);
      await trx.insertInto('service_delivering_orgs').values([...delivering].map((org_id) => ({ service_id: s.id, org_id }))).execute();
      await trx
        .insertInto('service_channels')
        .values(s.channels.map((c) => ({ service_id: s.id, channel: c.channel, url_en: c.url_en ?? null, url_fr: c.url_fr ?? null, phone: c.phone ?? null })))
        .execute();
      if (s.costs?.length)
        await trx.insertInto('service_costs').values(s.costs.map((c) => ({ service_id: s.id, amount_cents: c.cents, currency: 'CAD', description_en: c.en, description_fr: c.fr }))).execute();
      if (s.requirements?.length)
        await trx.insertInto('service_requirements').values(s.requirements.map((r, i) => ({ service_id: s.id, position: i + 1, name_en: r.en, name_fr: r.fr }))).execute();
      if (s.outputs?.length) await trx.insertInto('service_outputs').values(s.outputs.map((o) => ({ service_id: s.id, name_en: o.en, name_fr: o.fr }))).execute();
      const standards = [...(s.standard ? [s.standard] : []), ...(s.moreStandards ?? [])];
      if (standards.length)
        await trx
          .insertInto('service_standards')
          .values(
            standards.map((std, i) => ({
              id: i ? `demo-${s.id}-${i + 1}` : `demo-${s.id}`, source_id: i ? `demo-${s.id}-${i + 1}` : `demo-${s.id}`, service_id: s.id, fiscal_year: '2025-2026', text_en: std.en, text_fr: std.fr,
              type: 'TML', channel: std.channel ?? null, target: std.target, volume_meeting_target: null, total_volume: null, performance: null, target_met: null,
              missing: JSON.stringify({ performance: 'ND' }), duration_value: std.value, duration_unit: std.unit,
              standard_url_en: null, standard_url_fr: null, results_url_en: null, results_url_fr: null,
            })),
          )
          .execute();
      await trx
        .insertInto('service_versions')
        .values({ service_id: s.id, version: 1, status: 'published', snapshot: JSON.stringify(s), changed_by: 'seed', comment: 'demo seed' })
        .execute();
    }
    let position = 0;
    for (const e of demoEvents) {
      await trx
        .insertInto('events')
        .values({ id: e.id, kind: e.kind, title_en: e.title_en, title_fr: e.title_fr, description_en: e.description_en, description_fr: e.description_fr, position: position++ })
        .execute();
      await trx
        .insertInto('event_steps')
        .values(
          e.steps.map((st, i) => ({
            event_id: e.id, position: i + 1, title_en: st.en, title_fr: st.fr,
            service_id: st.service && knownServices.has(st.service) ? st.service : null, org_id: st.org ?? null,
          })),
        )
        .execute();
    }
    const knownOrgs = new Set((await trx.selectFrom('organisations').select('id').execute()).map((o) => o.id));
    for (const o of demoOffices) {
      await trx
        .insertInto('offices')
        .values({
          id: o.id, name_en: o.name_en, name_fr: o.name_fr, collaboration_model: o.model, address: o.address, city: o.city, province: 'ON',
          postal_code: o.postal_code, latitude: o.lat, longitude: o.lon, timezone: 'America/Toronto', phone: o.phone ?? null, is_demo: true,
        })
        .execute();
      const orgs = o.orgs.filter((x) => knownOrgs.has(x));
      if (orgs.length) await trx.insertInto('office_organisations').values(orgs.map((org_id) => ({ office_id: o.id, org_id }))).execute();
      const svcs = o.services.filter((x) => knownServices.has(x));
      if (svcs.length) await trx.insertInto('office_services').values(svcs.map((service_id) => ({ office_id: o.id, service_id }))).execute();
      await trx.insertInto('office_hours').values(o.hours.map(([weekday, opens, closes]) => ({ office_id: o.id, weekday, opens, closes }))).execute();
      await trx
        .insertInto('office_hours_exceptions')
        .values([
          { office_id: o.id, date: '2026-12-25', closed: true, opens: null, closes: null, reason_en: 'Christmas Day', reason_fr: 'Jour de Noël' },
          { office_id: o.id, date: '2026-12-26', closed: true, opens: null, closes: null, reason_en: 'Boxing Day', reason_fr: 'Lendemain de Noël' },
          { office_id: o.id, date: '2027-01-01', closed: true, opens: null, closes: null, reason_en: 'New Year’s Day', reason_fr: 'Jour de l’An' },
        ])
        .execute();
    }
    await trx
      .insertInto('postal_areas')
      .values(demoPostalAreas.map(([fsa, latitude, longitude, place]) => ({ fsa, latitude, longitude, place })))
      .onConflict((oc) => oc.column('fsa').doNothing())
      .execute();
    const staff = demoStaff.filter((s) => knownOrgs.has(s.org_id));
    await trx.insertInto('staff_users').values(staff.map((s) => ({ ...s, is_demo: true }))).execute();
  });
  return true;
}
