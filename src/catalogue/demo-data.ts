/**
 * The demo set that `npm start` adds beside the real GC inventory: a one-stop organisation, a few provincial and
 * municipal partners of one region (Ottawa), some of their services, offices, staff, and the life and business
 * events whose steps point at services of several organisations and levels of government.
 * Everything here is flagged is_demo and shown with a "demo" tag. Fees and standards follow the figures in
 * docs/domain.md (ServiceOntario, Maine InforME).
 */
import type { ChannelType, CollaborationModel, GovernmentLevel } from './tables';

/** The one-stop organisation's id: one definition, in the ownership rule (src/http/ownership.ts). */
import { ONE_STOP_ORG } from '../http/ownership';
export const ONE_STOP_ORG_ID = ONE_STOP_ORG;

export interface DemoOrg {
  id: string;
  name_en: string;
  name_fr: string;
  acronym_en: string;
  acronym_fr: string;
  level: GovernmentLevel;
  jurisdiction: string;
  parent_id?: string;
  website_en?: string;
  website_fr?: string;
  phone?: string;
}

export const demoOrgs: DemoOrg[] = [
  { id: ONE_STOP_ORG_ID, name_en: 'Guichet Ottawa Region One-Stop (demo)', name_fr: 'Guichet unique de la région d’Ottawa (démo)', acronym_en: 'GUICHET', acronym_fr: 'GUICHET', level: 'provincial', jurisdiction: 'CA-ON', phone: '1-800-555-0100' },
  { id: 'on-mto', name_en: 'Ontario Ministry of Transportation (demo)', name_fr: 'Ministère des Transports de l’Ontario (démo)', acronym_en: 'MTO', acronym_fr: 'MTO', level: 'provincial', jurisdiction: 'CA-ON' },
  { id: 'on-moh', name_en: 'Ontario Ministry of Health (demo)', name_fr: 'Ministère de la Santé de l’Ontario (démo)', acronym_en: 'MOH', acronym_fr: 'MSAN', level: 'provincial', jurisdiction: 'CA-ON' },
  { id: 'on-mnr', name_en: 'Ontario Ministry of Natural Resources (demo)', name_fr: 'Ministère des Richesses naturelles de l’Ontario (démo)', acronym_en: 'MNR', acronym_fr: 'MRN', level: 'provincial', jurisdiction: 'CA-ON' },
  { id: 'on-org', name_en: 'Office of the Registrar General of Ontario (demo)', name_fr: 'Bureau du registraire général de l’Ontario (démo)', acronym_en: 'ORG', acronym_fr: 'BRG', level: 'provincial', jurisdiction: 'CA-ON' },
  { id: 'on-pbr', name_en: 'Ontario Business Registry (demo)', name_fr: 'Registre des entreprises de l’Ontario (démo)', acronym_en: 'OBR', acronym_fr: 'REO', level: 'provincial', jurisdiction: 'CA-ON' },
  { id: 'ottawa', name_en: 'City of Ottawa (demo)', name_fr: 'Ville d’Ottawa (démo)', acronym_en: 'OTTAWA', acronym_fr: 'OTTAWA', level: 'municipal', jurisdiction: 'CA-ON-ottawa', phone: '311' },
  { id: 'akwesasne', name_en: 'Mohawk Council of Akwesasne (demo)', name_fr: 'Conseil des Mohawks d’Akwesasne (démo)', acronym_en: 'MCA', acronym_fr: 'CMA', level: 'indigenous', jurisdiction: 'CA-ON-akwesasne' },
  { id: 'ottawa-food-bank', name_en: 'Community Food Network (demo)', name_fr: 'Réseau alimentaire communautaire (démo)', acronym_en: 'CFN', acronym_fr: 'RAC', level: 'ngo', jurisdiction: 'CA-ON-ottawa' },
];

export interface DemoService {
  id: string;
  owner: string;
  delivered_by?: string[];
  title_en: string;
  title_fr: string;
  description_en: string;
  description_fr: string;
  keywords_en: string[];
  keywords_fr: string[];
  audiences: string[];
  thematic_areas: string[];
  channels: Array<{ channel: ChannelType; url_en?: string; url_fr?: string; phone?: string }>;
  costs?: Array<{ cents: number; en: string; fr: string }>;
  requirements?: Array<{ en: string; fr: string }>;
  outputs?: Array<{ en: string; fr: string }>;
  /** Its published standard; `channel` is the GC code of the channel it is for (ONL, PERSON, ...; none: every channel). */
  standard?: DemoStandard;
  /** More standards, for other channels. */
  moreStandards?: DemoStandard[];
  guarantee_days?: number;
  agent_notes_en?: string;
  agent_notes_fr?: string;
}

const idDocs = { en: 'Proof of identity (for example a passport or birth certificate)', fr: 'Preuve d’identité (par exemple un passeport ou un certificat de naissance)' };
const addressDoc = { en: 'Proof of your new address (for example a lease or utility bill)', fr: 'Preuve de votre nouvelle adresse (par exemple un bail ou une facture de services publics)' };

export const demoServices: DemoService[] = [
  {
    id: 'demo-health-card', owner: 'on-moh', delivered_by: [ONE_STOP_ORG_ID],
    title_en: 'Health card: apply, renew or change your address', title_fr: 'Carte Santé : demande, renouvellement ou changement d’adresse',
    description_en: 'Get or renew the health card that gives you access to insured health services, and keep your address up to date.',
    description_fr: 'Obtenez ou renouvelez la carte Santé qui donne accès aux services de santé assurés, et tenez votre adresse à jour.',
    keywords_en: ['health card', 'OHIP', 'medical card', 'health insurance'], keywords_fr: ['carte santé', 'assurance maladie', 'RAMO'],
    audiences: ['PERSON'], thematic_areas: ['health'],
    channels: [{ channel: 'in_person' }, { channel: 'online', url_en: 'https://example.org/demo/health-card', url_fr: 'https://example.org/demo/carte-sante' }, { channel: 'phone', phone: '1-800-555-0101' }],
    requirements: [idDocs, addressDoc, { en: 'Proof of residency in the province', fr: 'Preuve de résidence dans la province' }],
    outputs: [{ en: 'Health card', fr: 'Carte Santé' }],
    standard: { en: 'Mail your new card within 20 business days', fr: 'Poster votre nouvelle carte dans un délai de 20 jours ouvrables', target: 0.9, value: 20, unit: 'business_days' },
    agent_notes_en: 'Photo cards must be renewed in person. Check the expiry date on the back.', agent_notes_fr: 'Les cartes avec photo se renouvellent en personne. Vérifiez la date d’expiration au verso.',
  },
  {
    id: 'demo-driver-licence', owner: 'on-mto', delivered_by: [ONE_STOP_ORG_ID],
    title_en: 'Driver’s licence: renew or change your address', title_fr: 'Permis de conduire : renouvellement ou changement d’adresse',
    description_en: 'Renew your driver’s licence, replace a lost one, or tell us your new address.',
    description_fr: 'Renouvelez votre permis de conduire, remplacez un permis perdu ou donnez-nous votre nouvelle adresse.',
    keywords_en: ['driving licence', 'drivers license', 'permit', 'car'], keywords_fr: ['permis', 'conduire', 'auto', 'voiture'],
    audiences: ['PERSON'], thematic_areas: ['transport'],
    channels: [{ channel: 'in_person' }, { channel: 'online', url_en: 'https://example.org/demo/driver-licence', url_fr: 'https://example.org/demo/permis' }, { channel: 'kiosk' }],
    costs: [{ cents: 9000, en: 'Five-year renewal', fr: 'Renouvellement de cinq ans' }],
    requirements: [{ en: 'Your current driver’s licence', fr: 'Votre permis de conduire actuel' }, addressDoc],
    outputs: [{ en: 'Driver’s licence card', fr: 'Carte de permis de conduire' }],
    standard: { en: 'Serve kiosk transactions in at most 3 minutes', fr: 'Traiter les transactions au kiosque en au plus 3 minutes', target: 0.95, value: 3, unit: 'minutes', channel: 'PERSON' },
    moreStandards: [
      { en: 'Decide online requests within 5 business days', fr: 'Rendre une décision sur les demandes en ligne dans un délai de 5 jours ouvrables', target: 0.9, value: 5, unit: 'business_days', channel: 'ONL' },
    ],
  },
  {
    id: 'demo-outdoors-card', owner: 'on-mnr', delivered_by: [ONE_STOP_ORG_ID],
    title_en: 'Outdoors card for fishing and hunting', title_fr: 'Carte Plein air pour la pêche et la chasse',
    description_en: 'Buy or renew the outdoors card you need to fish or hunt, and keep your address current.',
    description_fr: 'Achetez ou renouvelez la carte Plein air requise pour pêcher ou chasser, et tenez votre adresse à jour.',
    keywords_en: ['fishing licence', 'hunting licence', 'fish', 'hunt'], keywords_fr: ['permis de pêche', 'permis de chasse', 'pêche', 'chasse'],
    audiences: ['PERSON'], thematic_areas: ['environment'],
    channels: [{ channel: 'online', url_en: 'https://example.org/demo/outdoors', url_fr: 'https://example.org/demo/plein-air' }, { channel: 'in_person' }],
    costs: [{ cents: 857, en: 'Outdoors card (3 years)', fr: 'Carte Plein air (3 ans)' }],
    outputs: [{ en: 'Outdoors card', fr: 'Carte Plein air' }],
  },
  {
    id: 'demo-birth-certificate', owner: 'on-org', delivered_by: [ONE_STOP_ORG_ID],
    title_en: 'Birth certificate', title_fr: 'Certificat de naissance',
    description_en: 'Order a birth certificate online. If we do not deliver it within 15 business days, your fee is refunded.',
    description_fr: 'Commandez un certificat de naissance en ligne. S’il n’est pas livré dans les 15 jours ouvrables, vos droits sont remboursés.',
    keywords_en: ['birth certificate', 'proof of birth'], keywords_fr: ['certificat de naissance', 'acte de naissance'],
    audiences: ['PERSON'], thematic_areas: ['civil-status'],
    channels: [{ channel: 'online', url_en: 'https://example.org/demo/birth-certificate', url_fr: 'https://example.org/demo/certificat-naissance' }, { channel: 'in_person' }, { channel: 'mail' }],
    costs: [{ cents: 2500, en: 'Short-form certificate', fr: 'Certificat abrégé' }],
    requirements: [idDocs],
    outputs: [{ en: 'Birth certificate', fr: 'Certificat de naissance' }],
    standard: { en: 'Deliver online orders within 15 business days or your money back', fr: 'Livrer les commandes en ligne en 15 jours ouvrables ou vous êtes remboursé', target: 1, value: 15, unit: 'business_days' },
    guarantee_days: 15,
  },
  {
    id: 'demo-register-birth', owner: 'on-org', delivered_by: [ONE_STOP_ORG_ID],
    title_en: 'Register a birth', title_fr: 'Enregistrer une naissance',
    description_en: 'Register your newborn’s birth, and at the same time apply for the birth certificate, the social insurance number and child benefits.',
    description_fr: 'Enregistrez la naissance de votre nouveau-né et demandez en même temps le certificat de naissance, le numéro d’assurance sociale et les prestations pour enfants.',
    keywords_en: ['newborn', 'baby', 'birth registration'], keywords_fr: ['nouveau-né', 'bébé', 'enregistrement de naissance'],
    audiences: ['PERSON'], thematic_areas: ['civil-status', 'family'],
    channels: [{ channel: 'online', url_en: 'https://example.org/demo/register-birth', url_fr: 'https://example.org/demo/enregistrer-naissance' }],
    outputs: [{ en: 'Statement of live birth registered', fr: 'Déclaration de naissance vivante enregistrée' }],
  },
  {
    id: 'demo-business-name', owner: 'on-pbr', delivered_by: [ONE_STOP_ORG_ID],
    title_en: 'Register a business name', title_fr: 'Enregistrer un nom d’entreprise',
    description_en: 'Register or renew the name of your sole proprietorship or partnership.',
    description_fr: 'Enregistrez ou renouvelez le nom de votre entreprise individuelle ou de votre société de personnes.',
    keywords_en: ['business name', 'sole proprietorship', 'start a business'], keywords_fr: ['nom commercial', 'entreprise individuelle', 'démarrer une entreprise'],
    audiences: ['ECONOM'], thematic_areas: ['business'],
    channels: [{ channel: 'online', url_en: 'https://example.org/demo/business-name', url_fr: 'https://example.org/demo/nom-entreprise' }, { channel: 'in_person' }],
    costs: [{ cents: 6000, en: 'Registration (5 years)', fr: 'Enregistrement (5 ans)' }],
    outputs: [{ en: 'Master business licence', fr: 'Permis principal d’entreprise' }],
    standard: { en: 'Register online applications within 1 business day', fr: 'Enregistrer les demandes en ligne en 1 jour ouvrable', target: 0.95, value: 1, unit: 'business_days' },
  },
  {
    id: 'demo-dog-licence', owner: 'ottawa',
    title_en: 'Dog and cat licence', title_fr: 'Permis pour chien et chat',
    description_en: 'License your dog or cat every year. A licence helps bring lost pets home.',
    description_fr: 'Obtenez chaque année le permis de votre chien ou de votre chat. Le permis aide à ramener les animaux perdus.',
    keywords_en: ['pet licence', 'dog tag', 'cat'], keywords_fr: ['médaille', 'animal', 'chat', 'chien'],
    audiences: ['PERSON'], thematic_areas: ['municipal'],
    channels: [{ channel: 'online', url_en: 'https://example.org/demo/pet-licence', url_fr: 'https://example.org/demo/permis-animal' }, { channel: 'in_person' }, { channel: 'phone', phone: '311' }],
    costs: [{ cents: 1900, en: 'Spayed or neutered pet, one year', fr: 'Animal stérilisé, un an' }],
  },
  {
    id: 'demo-property-tax-address', owner: 'ottawa',
    title_en: 'Property tax account: change your mailing address', title_fr: 'Compte d’impôt foncier : changer votre adresse postale',
    description_en: 'Tell the city your new mailing address so that your property tax bills reach you.',
    description_fr: 'Donnez à la ville votre nouvelle adresse postale pour recevoir vos factures d’impôt foncier.',
    keywords_en: ['property tax', 'moving', 'address change'], keywords_fr: ['impôt foncier', 'déménagement', 'changement d’adresse'],
    audiences: ['PERSON', 'ECONOM'], thematic_areas: ['municipal', 'tax'],
    channels: [{ channel: 'online', url_en: 'https://example.org/demo/property-tax', url_fr: 'https://example.org/demo/impot-foncier' }, { channel: 'phone', phone: '311' }, { channel: 'in_person' }],
    standard: { en: 'Update your account within 5 business days', fr: 'Mettre à jour votre compte en 5 jours ouvrables', target: 0.9, value: 5, unit: 'business_days' },
  },
  {
    id: 'demo-status-card', owner: 'akwesasne', delivered_by: ['akwesasne'],
    title_en: 'Community membership and status card help', title_fr: 'Aide pour l’appartenance à la communauté et la carte de statut',
    description_en: 'Help with community membership, and with applying for or renewing a status card.',
    description_fr: 'Aide pour l’appartenance à la communauté et pour demander ou renouveler une carte de statut.',
    keywords_en: ['status card', 'membership', 'First Nations'], keywords_fr: ['carte de statut', 'appartenance', 'Premières Nations'],
    audiences: ['PERSON'], thematic_areas: ['indigenous'],
    channels: [{ channel: 'in_person' }, { channel: 'phone', phone: '1-613-555-0123' }],
  },
  {
    id: 'demo-food-support', owner: 'ottawa-food-bank',
    title_en: 'Emergency food support', title_fr: 'Aide alimentaire d’urgence',
    description_en: 'Find a food bank or community meal near you.', description_fr: 'Trouvez une banque alimentaire ou un repas communautaire près de chez vous.',
    keywords_en: ['food bank', 'groceries', 'meal'], keywords_fr: ['banque alimentaire', 'épicerie', 'repas'],
    audiences: ['PERSON'], thematic_areas: ['social'],
    channels: [{ channel: 'phone', phone: '211' }, { channel: 'in_person' }],
  },
];

export interface DemoEvent {
  id: string;
  kind: 'life' | 'business';
  title_en: string;
  title_fr: string;
  description_en: string;
  description_fr: string;
  steps: Array<{ en: string; fr: string; service?: string; org?: string }>;
}

/** Steps point at real GC services (gc-<service_id>) and at demo provincial / municipal services. */
export const demoEvents: DemoEvent[] = [
  {
    id: 'having-a-baby', kind: 'life', title_en: 'Having a baby', title_fr: 'Avoir un bébé',
    description_en: 'What to do before and after your child is born, at every level of government.',
    description_fr: 'Quoi faire avant et après la naissance de votre enfant, à tous les ordres de gouvernement.',
    steps: [
      { en: 'Register the birth', fr: 'Enregistrer la naissance', service: 'demo-register-birth' },
      { en: 'Order a birth certificate', fr: 'Commander un certificat de naissance', service: 'demo-birth-certificate' },
      { en: 'Get a health card for your baby', fr: 'Obtenir une carte Santé pour votre bébé', service: 'demo-health-card' },
      { en: 'Apply for a social insurance number', fr: 'Demander un numéro d’assurance sociale', service: 'gc-1292' },
      { en: 'Apply for the Canada child benefit', fr: 'Demander l’allocation canadienne pour enfants', service: 'gc-1107' },
      { en: 'Maternity and parental benefits (Employment Insurance)', fr: 'Prestations de maternité et parentales (assurance-emploi)', service: 'gc-1003' },
    ],
  },
  {
    id: 'moving', kind: 'life', title_en: 'Moving', title_fr: 'Déménager',
    description_en: 'Tell every program your new address once.', description_fr: 'Donnez votre nouvelle adresse une seule fois à tous les programmes.',
    steps: [
      { en: 'Change the address on your health card', fr: 'Changer l’adresse sur votre carte Santé', service: 'demo-health-card' },
      { en: 'Change the address on your driver’s licence', fr: 'Changer l’adresse sur votre permis de conduire', service: 'demo-driver-licence' },
      { en: 'Update your outdoors card', fr: 'Mettre à jour votre carte Plein air', service: 'demo-outdoors-card' },
      { en: 'Update your property tax account', fr: 'Mettre à jour votre compte d’impôt foncier', service: 'demo-property-tax-address' },
      { en: 'Tell the Canada Revenue Agency', fr: 'Informer l’Agence du revenu du Canada', service: 'gc-1097' },
      { en: 'License your pet at your new city', fr: 'Obtenir le permis de votre animal dans votre nouvelle ville', service: 'demo-dog-licence' },
    ],
  },
  {
    id: 'death-of-a-loved-one', kind: 'life', title_en: 'Death of a loved one', title_fr: 'Décès d’un proche',
    description_en: 'Tell government once, and find the benefits survivors may receive.', description_fr: 'Informez le gouvernement une seule fois et trouvez les prestations offertes aux survivants.',
    steps: [
      { en: 'Cancel the health card', fr: 'Annuler la carte Santé', service: 'demo-health-card' },
      { en: 'Cancel the driver’s licence', fr: 'Annuler le permis de conduire', service: 'demo-driver-licence' },
      { en: 'Canada Pension Plan survivor and death benefits', fr: 'Prestations de survivant et de décès du Régime de pensions du Canada', service: 'gc-7' },
      { en: 'Stop Old Age Security payments', fr: 'Arrêter les paiements de la Sécurité de la vieillesse', service: 'gc-1001' },
      { en: 'File the final income tax return', fr: 'Produire la dernière déclaration de revenus', service: 'gc-1097' },
      { en: 'Return or cancel the passport', fr: 'Retourner ou annuler le passeport', service: 'gc-1242' },
      { en: 'Veterans: funeral and burial help', fr: 'Vétérans : aide pour les funérailles et l’inhumation', service: 'gc-1281' },
    ],
  },
  {
    id: 'starting-a-business', kind: 'business', title_en: 'Starting a business', title_fr: 'Démarrer une entreprise',
    description_en: 'Register, get your numbers and permits.', description_fr: 'Enregistrez-vous, obtenez vos numéros et vos permis.',
    steps: [
      { en: 'Register a business name', fr: 'Enregistrer un nom d’entreprise', service: 'demo-business-name' },
      { en: 'Or incorporate federally', fr: 'Ou constituer une société de régime fédéral', service: 'gc-1235' },
      { en: 'Get a business number', fr: 'Obtenir un numéro d’entreprise', service: 'gc-1116' },
      { en: 'Register for GST/HST', fr: 'S’inscrire à la TPS/TVH', service: 'gc-1099' },
      { en: 'Protect your brand with a trademark', fr: 'Protéger votre marque de commerce', service: 'gc-1258' },
      { en: 'Hire: post jobs on Job Bank', fr: 'Embaucher : publier des offres sur le Guichet-Emplois', service: 'gc-1294' },
    ],
  },
  {
    id: 'retiring', kind: 'life', title_en: 'Retiring', title_fr: 'Prendre sa retraite',
    description_en: 'Apply for your public pensions and plan your income.', description_fr: 'Demandez vos pensions publiques et planifiez votre revenu.',
    steps: [
      { en: 'Apply for the Canada Pension Plan', fr: 'Demander la pension du Régime de pensions du Canada', service: 'gc-7' },
      { en: 'Apply for Old Age Security', fr: 'Demander la pension de la Sécurité de la vieillesse', service: 'gc-1001' },
      { en: 'Dental care for seniors', fr: 'Soins dentaires pour les aînés', service: 'gc-3602' },
      { en: 'Renew your health card', fr: 'Renouveler votre carte Santé', service: 'demo-health-card' },
    ],
  },
  {
    id: 'losing-a-job', kind: 'life', title_en: 'Losing a job', title_fr: 'Perdre son emploi',
    description_en: 'Income support, training and finding work.', description_fr: 'Soutien du revenu, formation et recherche d’emploi.',
    steps: [
      { en: 'Apply for Employment Insurance', fr: 'Demander l’assurance-emploi', service: 'gc-1003' },
      { en: 'Find a job', fr: 'Trouver un emploi', service: 'gc-1293' },
      { en: 'Go back to school: student grants and loans', fr: 'Retourner aux études : bourses et prêts d’études', service: 'gc-1296' },
      { en: 'Emergency food support', fr: 'Aide alimentaire d’urgence', service: 'demo-food-support' },
    ],
  },
  {
    id: 'newcomer', kind: 'life', title_en: 'New to Canada', title_fr: 'Nouvel arrivant au Canada',
    description_en: 'Your first steps: numbers, health coverage, benefits and citizenship.', description_fr: 'Vos premières démarches : numéros, assurance maladie, prestations et citoyenneté.',
    steps: [
      { en: 'Get a social insurance number', fr: 'Obtenir un numéro d’assurance sociale', service: 'gc-1292' },
      { en: 'Apply for a health card', fr: 'Demander une carte Santé', service: 'demo-health-card' },
      { en: 'Settlement services', fr: 'Services d’établissement', service: 'gc-2132' },
      { en: 'Apply for the Canada child benefit', fr: 'Demander l’allocation canadienne pour enfants', service: 'gc-1107' },
      { en: 'Become a citizen', fr: 'Devenir citoyen', service: 'gc-SRV03048' },
    ],
  },
  {
    id: 'turning-18', kind: 'life', title_en: 'Turning 18', title_fr: 'Avoir 18 ans',
    description_en: 'Taxes, student aid, your own health card and passport.', description_fr: 'Impôts, aide financière aux études, votre propre carte Santé et passeport.',
    steps: [
      { en: 'File your first income tax return', fr: 'Produire votre première déclaration de revenus', service: 'gc-1097' },
      { en: 'Student grants and loans', fr: 'Bourses et prêts d’études', service: 'gc-1296' },
      { en: 'Apply for your own passport', fr: 'Demander votre propre passeport', service: 'gc-1242' },
      { en: 'Get your driver’s licence', fr: 'Obtenir votre permis de conduire', service: 'demo-driver-licence' },
      { en: 'Find a job', fr: 'Trouver un emploi', service: 'gc-1293' },
    ],
  },
];

export interface DemoOffice {
  id: string;
  name_en: string;
  name_fr: string;
  model: CollaborationModel;
  address: string;
  city: string;
  postal_code: string;
  lat: number;
  lon: number;
  orgs: string[];
  services: string[];
  phone?: string;
  hours: Array<[number, string, string]>;
}

const weekdays = (opens: string, closes: string): Array<[number, string, string]> => [1, 2, 3, 4, 5].map((d) => [d, opens, closes]);
const provincial = ['demo-health-card', 'demo-driver-licence', 'demo-outdoors-card', 'demo-birth-certificate', 'demo-business-name'];
const federal = ['gc-1292', 'gc-1242', 'gc-1003', 'gc-1001', 'gc-7'];
const city = ['demo-dog-licence', 'demo-property-tax-address'];

export const demoOffices: DemoOffice[] = [
  { id: 'ottawa-ben-franklin', name_en: 'Ben Franklin Place shared service centre (demo)', name_fr: 'Centre de services partagé de la place Ben-Franklin (démo)', model: 'one_office_one_counter', address: '101 Centrepointe Drive', city: 'Ottawa', postal_code: 'K2G 5K7', lat: 45.3434, lon: -75.7606, orgs: [ONE_STOP_ORG_ID, 'ottawa', 'on-mto', 'on-moh', 'esdc-edsc'], services: [...provincial, ...federal, ...city], hours: [...weekdays('08:30', '16:30'), [6, '09:00', '13:00']] },
  { id: 'ottawa-city-hall', name_en: 'Ottawa City Hall client service centre (demo)', name_fr: 'Centre du service à la clientèle de l’hôtel de ville d’Ottawa (démo)', model: 'independent', address: '110 Laurier Avenue West', city: 'Ottawa', postal_code: 'K1P 1J1', lat: 45.4213, lon: -75.6906, orgs: ['ottawa'], services: city, phone: '311', hours: weekdays('08:30', '16:30') },
  { id: 'ottawa-rideau', name_en: 'Rideau Street one-stop centre (demo)', name_fr: 'Centre de guichet unique de la rue Rideau (démo)', model: 'one_office_two_counters', address: '50 Rideau Street', city: 'Ottawa', postal_code: 'K1N 9J7', lat: 45.4262, lon: -75.6918, orgs: [ONE_STOP_ORG_ID, 'on-mto', 'on-moh', 'esdc-edsc'], services: [...provincial, ...federal], hours: weekdays('08:30', '17:00') },
  { id: 'ottawa-kanata', name_en: 'Kanata service centre (demo)', name_fr: 'Centre de services de Kanata (démo)', model: 'side_by_side', address: '580 Terry Fox Drive', city: 'Ottawa', postal_code: 'K2L 4C2', lat: 45.3088, lon: -75.9103, orgs: ['on-mto', 'esdc-edsc'], services: ['demo-driver-licence', 'demo-health-card', 'gc-1292', 'gc-1003'], hours: weekdays('09:00', '17:00') },
  { id: 'ottawa-orleans', name_en: 'Orléans client service centre (demo)', name_fr: 'Centre du service à la clientèle d’Orléans (démo)', model: 'one_office_one_counter', address: '255 Centrum Boulevard', city: 'Ottawa', postal_code: 'K1E 3V8', lat: 45.4795, lon: -75.5106, orgs: [ONE_STOP_ORG_ID, 'ottawa', 'on-moh'], services: [...city, 'demo-health-card', 'demo-birth-certificate'], hours: weekdays('08:30', '16:30') },
  { id: 'cornwall-akwesasne', name_en: 'Akwesasne community service office (demo)', name_fr: 'Bureau de services communautaires d’Akwesasne (démo)', model: 'side_by_side', address: '101 Tewesateni Road', city: 'Akwesasne', postal_code: 'K6H 5R7', lat: 45.0075, lon: -74.6533, orgs: ['akwesasne', 'esdc-edsc'], services: ['demo-status-card', 'gc-1292', 'gc-1107'], hours: weekdays('08:30', '16:30') },
];

/** Forward sortation areas of the demo region with approximate centroids (for the postal-code locator). */
export const demoPostalAreas: Array<[string, number, number, string]> = [
  ['K1A', 45.42, -75.70, 'Ottawa (federal)'], ['K1B', 45.43, -75.59, 'Ottawa (Blackburn)'], ['K1C', 45.475, -75.52, 'Orléans'],
  ['K1E', 45.48, -75.50, 'Orléans'], ['K1G', 45.405, -75.63, 'Ottawa (Alta Vista)'], ['K1H', 45.395, -75.66, 'Ottawa (Alta Vista)'],
  ['K1J', 45.44, -75.62, 'Ottawa (Beacon Hill)'], ['K1K', 45.445, -75.65, 'Ottawa (Vanier)'], ['K1L', 45.435, -75.665, 'Ottawa (Vanier)'],
  ['K1M', 45.445, -75.685, 'Ottawa (Rockcliffe)'], ['K1N', 45.43, -75.69, 'Ottawa (Lowertown)'], ['K1P', 45.42, -75.70, 'Ottawa (Centretown)'],
  ['K1R', 45.41, -75.71, 'Ottawa (Centretown West)'], ['K1S', 45.40, -75.685, 'Ottawa (Glebe)'], ['K1T', 45.355, -75.63, 'Ottawa (Hunt Club)'],
  ['K1V', 45.37, -75.66, 'Ottawa (Riverside South)'], ['K1Y', 45.40, -75.73, 'Ottawa (Westboro)'], ['K1Z', 45.39, -75.74, 'Ottawa (Westboro)'],
  ['K2A', 45.375, -75.77, 'Ottawa (Britannia)'], ['K2B', 45.36, -75.79, 'Ottawa (Bells Corners)'], ['K2C', 45.355, -75.735, 'Ottawa (Carleton Heights)'],
  ['K2E', 45.34, -75.71, 'Ottawa (Nepean)'], ['K2G', 45.34, -75.75, 'Nepean (Centrepointe)'], ['K2H', 45.33, -75.80, 'Nepean'],
  ['K2J', 45.27, -75.74, 'Barrhaven'], ['K2K', 45.345, -75.91, 'Kanata North'], ['K2L', 45.31, -75.89, 'Kanata'],
  ['K2M', 45.29, -75.88, 'Kanata South'], ['K2P', 45.415, -75.695, 'Ottawa (Centretown)'], ['K2S', 45.26, -75.92, 'Stittsville'],
  ['K4A', 45.46, -75.47, 'Orléans East'], ['K4M', 45.28, -75.69, 'Manotick'], ['K6H', 45.02, -74.73, 'Cornwall'], ['K6J', 45.02, -74.75, 'Cornwall'],
  ['K6K', 45.03, -74.70, 'Cornwall'], ['J8T', 45.46, -75.72, 'Gatineau'], ['J8X', 45.43, -75.72, 'Gatineau (Hull)'], ['J9H', 45.40, -75.85, 'Gatineau (Aylmer)'],
];

export interface DemoStandard {
  en: string;
  fr: string;
  target: number;
  value: number;
  unit: 'days' | 'business_days' | 'minutes';
  channel?: 'ONL' | 'TEL' | 'PERSON' | 'POST' | 'EML';
}

export const demoStaff: Array<{ id: string; email: string; name: string; org_id: string; roles: string[] }> = [
  { id: 'staff-reviewer', email: 'reviewer@guichet.example', name: 'Renée Reviewer', org_id: ONE_STOP_ORG_ID, roles: ['reviewer', 'editor', 'manager'] },
  { id: 'staff-agent', email: 'agent@guichet.example', name: 'Alex Agent', org_id: ONE_STOP_ORG_ID, roles: ['agent'] },
  { id: 'staff-admin', email: 'admin@guichet.example', name: 'Ada Admin', org_id: ONE_STOP_ORG_ID, roles: ['admin', 'manager'] },
  { id: 'staff-mto-editor', email: 'editor@mto.example', name: 'Émile Editor (MTO)', org_id: 'on-mto', roles: ['editor'] },
  // the partner organisation that owns the demo driver's licence: an agent who handles its online requests from start
  // to end and a manager who assigns them (issue 16: no demo staff member saw a client's online request)
  { id: 'staff-mto-agent', email: 'agent@mto.example', name: 'Mathis Agent (MTO)', org_id: 'on-mto', roles: ['agent'] },
  { id: 'staff-mto-manager', email: 'manager@mto.example', name: 'Maya Manager (MTO)', org_id: 'on-mto', roles: ['manager', 'agent'] },
  { id: 'staff-ottawa-editor', email: 'editor@ottawa.example', name: 'Olivia Editor (Ottawa)', org_id: 'ottawa', roles: ['editor', 'agent'] },
  { id: 'staff-esdc-editor', email: 'editor@esdc.example', name: 'Sam Editor (ESDC)', org_id: 'esdc-edsc', roles: ['editor', 'partner'] },
  { id: 'staff-cra-partner', email: 'partner@cra.example', name: 'Casey Partner (CRA)', org_id: 'cra-arc', roles: ['partner', 'agent'] },
  { id: 'staff-board', email: 'board@guichet.example', name: 'Bernard Board (governance board)', org_id: ONE_STOP_ORG_ID, roles: ['board'] },
  { id: 'staff-mto-partner', email: 'partner@mto.example', name: 'Maya Partner (MTO)', org_id: 'on-mto', roles: ['partner'] },
  { id: 'staff-ottawa-partner', email: 'partner@ottawa.example', name: 'Omar Partner (Ottawa)', org_id: 'ottawa', roles: ['partner'] },
];
