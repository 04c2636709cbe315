/**
 * Relevance test set: questions phrased as clients type them (typos, no accents, everyday words, other language),
 * with the services of the real GC Service Inventory that answer them ('gc-<service_id>' from
 * seed/gc-service-inventory/si_2024.csv). Used by relevance.test.ts (MRR must stay >= 0.8) and bench/search.ts.
 */
export interface RelevanceCase {
  q: string;
  lang: 'en' | 'fr';
  /** Any of these in the results counts as a right answer. */
  expected: string[];
  /** What the case exercises. */
  note: string;
}

export const RELEVANCE_SET: RelevanceCase[] = [
  // English
  { q: 'pasport', lang: 'en', expected: ['gc-1242', 'gc-SRV03049'], note: 'typo' },
  { q: 'renew my passport', lang: 'en', expected: ['gc-1242', 'gc-SRV03049'], note: 'question words' },
  { q: 'gun licence', lang: 'en', expected: ['gc-926'], note: 'synonym gun/firearm' },
  { q: 'register my rifle', lang: 'en', expected: ['gc-1873'], note: 'synonym rifle/firearm' },
  { q: 'boat license', lang: 'en', expected: ['gc-SRV03509'], note: 'synonym boat/pleasure craft, US spelling' },
  { q: 'register a plane', lang: 'en', expected: ['gc-SRV03551'], note: 'synonym plane/aircraft' },
  { q: 'pardon', lang: 'en', expected: ['gc-1892', 'gc-SRV02789'], note: 'synonym pardon/record suspension' },
  { q: 'unemployment benefits', lang: 'en', expected: ['gc-1003'], note: 'synonym unemployment/employment insurance' },
  { q: 'employment insurence', lang: 'en', expected: ['gc-1003'], note: 'typo' },
  { q: 'old age pension', lang: 'en', expected: ['gc-1001'], note: 'everyday words' },
  { q: 'CPP', lang: 'en', expected: ['gc-7'], note: 'acronym' },
  { q: 'baby bonus', lang: 'en', expected: ['gc-1107'], note: 'everyday words for child benefit' },
  { q: 'SIN number', lang: 'en', expected: ['gc-1292'], note: 'acronym' },
  { q: 'social insurance numbr', lang: 'en', expected: ['gc-1292'], note: 'typo' },
  { q: 'student loans', lang: 'en', expected: ['gc-1296'], note: 'plural' },
  { q: 'disability tax credit', lang: 'en', expected: ['gc-1146'], note: 'exact title' },
  { q: 'file my income tax return', lang: 'en', expected: ['gc-1097'], note: 'question words' },
  { q: 'GST return', lang: 'en', expected: ['gc-1099'], note: 'acronym' },
  { q: 'register a trade mark', lang: 'en', expected: ['gc-1258'], note: 'spelling variant' },
  { q: 'patent my invention', lang: 'en', expected: ['gc-1267'], note: 'synonym invention/patent' },
  { q: 'student visa', lang: 'en', expected: ['gc-1428', 'gc-675'], note: 'synonym student visa/study permit' },
  { q: 'permit to work in canada', lang: 'en', expected: ['gc-SRV03051', 'gc-674'], note: 'word order' },
  { q: 'tourist visa', lang: 'en', expected: ['gc-1423', 'gc-676'], note: 'synonym tourist visa/temporary resident visa' },
  { q: 'proof of citizenship', lang: 'en', expected: ['gc-1488'], note: 'exact title' },
  { q: 'become a canadian citizen', lang: 'en', expected: ['gc-SRV03048', 'gc-1488'], note: 'everyday words' },
  { q: 'asylum claim', lang: 'en', expected: ['gc-678', 'gc-1457'], note: 'synonym asylum/refugee' },
  { q: 'electronic travel authorisation', lang: 'en', expected: ['gc-1422'], note: 'spelling variant' },
  { q: 'nexus card', lang: 'en', expected: ['gc-664'], note: 'program name' },
  { q: 'business number', lang: 'en', expected: ['gc-1116'], note: 'exact words' },
  { q: 'weather forecast', lang: 'en', expected: ['gc-1995', 'gc-689'], note: 'synonym forecast/weather' },
  { q: 'ham radio licence', lang: 'en', expected: ['gc-1304'], note: 'synonym ham radio/radio operator' },
  { q: 'sailor id', lang: 'en', expected: ['gc-SRV03484'], note: 'synonym sailor/seafarer' },
  { q: 'copyrigth', lang: 'en', expected: ['gc-1255', 'gc-3573'], note: 'transposition typo' },
  { q: 'veterans emergency money', lang: 'en', expected: ['gc-1284'], note: 'everyday words' },
  { q: 'lost my job', lang: 'en', expected: ['gc-1003'], note: 'situation in everyday words (life event "Losing a job")' },
  // French
  { q: 'passeport', lang: 'fr', expected: ['gc-1242', 'gc-SRV03049'], note: 'exact word' },
  { q: "permis d'arme a feu", lang: 'fr', expected: ['gc-926'], note: 'no accent' },
  { q: 'enregistrer mon fusil', lang: 'fr', expected: ['gc-1873'], note: 'synonym fusil/arme à feu' },
  { q: 'permis de bateau', lang: 'fr', expected: ['gc-SRV03509'], note: 'synonym bateau/embarcation de plaisance' },
  { q: 'immatriculer un avion', lang: 'fr', expected: ['gc-SRV03551'], note: 'synonym avion/aéronef, verb form' },
  { q: 'pardon casier judiciaire', lang: 'fr', expected: ['gc-1892', 'gc-SRV02789'], note: 'synonym pardon/suspension du casier' },
  { q: 'chomage', lang: 'fr', expected: ['gc-1003'], note: 'synonym chômage/assurance-emploi, no accent' },
  { q: 'assurance emploi', lang: 'fr', expected: ['gc-1003'], note: 'no hyphen' },
  { q: 'perdre son emploi', lang: 'fr', expected: ['gc-1003'], note: 'the life event’s own name' },
  { q: 'pension de vieillesse', lang: 'fr', expected: ['gc-1001'], note: 'everyday words' },
  { q: 'allocation pour enfant', lang: 'fr', expected: ['gc-1107'], note: 'singular' },
  { q: "numero d'assurance sociale", lang: 'fr', expected: ['gc-1292'], note: 'no accent' },
  { q: 'pret etudiant', lang: 'fr', expected: ['gc-1296'], note: 'no accent, synonym' },
  { q: "credit d'impot pour handicap", lang: 'fr', expected: ['gc-1146'], note: 'no accent' },
  { q: "declaraton d'impot", lang: 'fr', expected: ['gc-1097'], note: 'typo, no accent' },
  { q: 'marque de comerce', lang: 'fr', expected: ['gc-1258'], note: 'typo' },
  { q: 'breveter une invention', lang: 'fr', expected: ['gc-1267'], note: 'verb form, synonym' },
  { q: "permis d'etude", lang: 'fr', expected: ['gc-1428', 'gc-675'], note: 'no accent, singular' },
  { q: 'devenir citoyen canadien', lang: 'fr', expected: ['gc-SRV03048', 'gc-1488'], note: 'everyday words' },
  { q: 'demande d asile', lang: 'fr', expected: ['gc-678'], note: 'apostrophe missing' },
  { q: 'meteo', lang: 'fr', expected: ['gc-1995', 'gc-689', 'gc-SRV02792'], note: 'no accent' },
  { q: 'regime de pension du canada', lang: 'fr', expected: ['gc-7'], note: 'singular, no accent' },
  { q: 'visa touriste', lang: 'fr', expected: ['gc-1423', 'gc-676'], note: 'everyday words' },
  { q: "numero d'entreprise", lang: 'fr', expected: ['gc-1116'], note: 'no accent' },
  { q: "droits d'auteurs", lang: 'fr', expected: ['gc-1255', 'gc-3573'], note: 'plural' },
  { q: "prèstations d'invalidite RPC", lang: 'fr', expected: ['gc-991'], note: 'misplaced and missing accents, acronym' },
  { q: 'aeronef', lang: 'fr', expected: ['gc-SRV03551', 'gc-SRV03517', 'gc-SRV03465', 'gc-SRV03554', 'gc-SRV03566', 'gc-SRV03512'], note: 'no accent' },
  // Cross-language: French words on the English site and back
  { q: 'passeport', lang: 'en', expected: ['gc-1242', 'gc-SRV03049'], note: 'French word on the English site' },
  { q: 'firearms', lang: 'fr', expected: ['gc-926', 'gc-927', 'gc-1873', 'gc-1872'], note: 'English word on the French site' },
];
