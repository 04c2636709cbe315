/**
 * Demo subscriptions (marked is_demo), seeded once at start when the demo organisations exist: the ServiceOntario
 * "three discrete transactions" (health card, driver's licence, outdoors card) plus the city's property tax account,
 * the business registry and two federal programs. Webhook ones point at the built-in demo partner inbox
 * (/demo/partner-inbox/<subscription>, not in production) so that `npm start` shows notices reaching "delivered".
 */
import type { Database } from '../db/database';
import { newSecret } from './signing';
import type { EventTypeId } from './events';

interface DemoSub {
  id: string;
  org_id: string;
  program_en: string;
  program_fr: string;
  purpose_en: string;
  purpose_fr: string;
  service_id: string | null;
  event_types: EventTypeId[];
  fields: string[];
  legal_basis: 'consent' | 'law';
  law_reference: string | null;
  delivery: 'webhook' | 'pull';
}

export const demoSubscriptions: DemoSub[] = [
  {
    id: 'demo-health-card', org_id: 'on-moh', service_id: 'demo-health-card',
    program_en: 'Ontario health card (OHIP)', program_fr: 'Carte Santé de l’Ontario (Assurance-santé)',
    purpose_en: 'Keeps your health card address and name up to date so your card and letters reach you.',
    purpose_fr: 'Garde à jour l’adresse et le nom de votre carte Santé pour que votre carte et vos lettres vous parviennent.',
    event_types: ['change-of-address', 'change-of-name', 'birth-of-a-child', 'death', 'change-of-contact-details'],
    fields: ['subject.name', 'subject.birthDate', 'newAddress', 'effectiveDate', 'newName', 'childName', 'childBirthDate', 'deceasedName', 'deceasedBirthDate', 'dateOfDeath', 'newEmail', 'newPhone'],
    legal_basis: 'law', law_reference: 'Health Insurance Act, R.S.O. 1990, c. H.6, s. 4 (demo)', delivery: 'webhook',
  },
  {
    id: 'demo-driver-licence', org_id: 'on-mto', service_id: 'demo-driver-licence',
    program_en: 'Ontario driver’s licence and vehicle permits', program_fr: 'Permis de conduire et certificats d’immatriculation de l’Ontario',
    purpose_en: 'The law requires your licence to show your current address within 6 days of a move.',
    purpose_fr: 'La loi exige que votre permis indique votre adresse actuelle dans les 6 jours suivant un déménagement.',
    event_types: ['change-of-address', 'change-of-name', 'death'],
    fields: ['subject.name', 'subject.birthDate', 'newAddress', 'effectiveDate', 'newName', 'deceasedName', 'deceasedBirthDate', 'dateOfDeath'],
    legal_basis: 'law', law_reference: 'Highway Traffic Act, R.S.O. 1990, c. H.8, s. 9 (demo)', delivery: 'webhook',
  },
  {
    id: 'demo-outdoors-card', org_id: 'on-mnr', service_id: 'demo-outdoors-card',
    program_en: 'Ontario Outdoors Card (fishing and hunting)', program_fr: 'Carte Plein air de l’Ontario (pêche et chasse)',
    purpose_en: 'Sends your outdoors card and licence tags to your new address.',
    purpose_fr: 'Envoie votre carte Plein air et vos vignettes à votre nouvelle adresse.',
    event_types: ['change-of-address', 'death'],
    fields: ['subject.name', 'newAddress', 'deceasedName', 'dateOfDeath'],
    legal_basis: 'consent', law_reference: null, delivery: 'pull',
  },
  {
    id: 'demo-property-tax', org_id: 'ottawa', service_id: 'demo-property-tax-address',
    program_en: 'City of Ottawa property tax account', program_fr: 'Compte d’impôt foncier de la Ville d’Ottawa',
    purpose_en: 'Sends your property tax bills to your mailing address.',
    purpose_fr: 'Envoie vos factures d’impôt foncier à votre adresse postale.',
    event_types: ['change-of-address', 'death', 'change-of-name'],
    fields: ['subject.name', 'newAddress', 'previousAddress', 'effectiveDate', 'newName', 'deceasedName', 'dateOfDeath'],
    legal_basis: 'consent', law_reference: null, delivery: 'webhook',
  },
  {
    id: 'demo-business-registry', org_id: 'on-pbr', service_id: 'demo-business-name',
    program_en: 'Ontario Business Registry', program_fr: 'Registre des entreprises de l’Ontario',
    purpose_en: 'Keeps your business’s registered address up to date.',
    purpose_fr: 'Garde à jour l’adresse enregistrée de votre entreprise.',
    event_types: ['business-change-of-address'],
    fields: ['business.name', 'business.number', 'newAddress', 'effectiveDate'],
    legal_basis: 'law', law_reference: 'Business Names Act, R.S.O. 1990, c. B.17, s. 4 (demo)', delivery: 'pull',
  },
  {
    id: 'demo-cra-benefits', org_id: 'cra-arc', service_id: null,
    program_en: 'Canada Revenue Agency: benefits and credits (demo subscription)', program_fr: 'Agence du revenu du Canada : prestations et crédits (abonnement de démonstration)',
    purpose_en: 'Your marital status, children and address change the benefits and credits you are entitled to.',
    purpose_fr: 'Votre état civil, vos enfants et votre adresse changent les prestations et crédits auxquels vous avez droit.',
    event_types: ['change-of-address', 'change-of-marital-status', 'birth-of-a-child', 'death'],
    fields: ['subject.name', 'subject.birthDate', 'newAddress', 'effectiveDate', 'maritalStatus', 'spouseName', 'childName', 'childBirthDate', 'deceasedName', 'deceasedBirthDate', 'dateOfDeath'],
    legal_basis: 'consent', law_reference: null, delivery: 'pull',
  },
];

/** Insert the demo subscriptions that are missing (idempotent). Returns how many were added. */
export async function seedDemoSubscriptions(db: Database, publicBaseUrl: string): Promise<number> {
  const orgs = new Set((await db.selectFrom('organisations').select('id').where('id', 'in', demoSubscriptions.map((s) => s.org_id)).execute()).map((o) => o.id));
  const services = new Set(
    (await db.selectFrom('services').select('id').where('id', 'in', demoSubscriptions.map((s) => s.service_id ?? '-')).execute()).map((s) => s.id),
  );
  let added = 0;
  for (const s of demoSubscriptions) {
    if (!orgs.has(s.org_id)) continue;
    const r = await db
      .insertInto('notice_subscriptions')
      .values({
        ...s,
        service_id: s.service_id && services.has(s.service_id) ? s.service_id : null,
        webhook_url: s.delivery === 'webhook' ? `${publicBaseUrl}/demo/partner-inbox/${s.id}` : null,
        signing_secret: s.delivery === 'webhook' ? newSecret('whsec') : null,
        active: true,
        is_demo: true,
        created_by: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    added += Number(r.numInsertedOrUpdatedRows ?? 0);
  }
  return added;
}
