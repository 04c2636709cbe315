/**
 * Bilingual synonym list: the words citizens use next to the words of the catalogue.
 *
 * One group = phrases that mean the same thing, in English and in French. A query phrase that matches any phrase
 * of a group (after folding, stop-word removal and stemming, so "fusils" matches "fusil") also searches for every
 * other phrase of the group, at a slightly lower weight than the words typed. Multi-word phrases must match as a
 * whole ("pleasure craft" needs both words).
 *
 * Maintenance (see docs/search.md): add a group when search logs or agents show citizens' words that find nothing;
 * keep one concept per group (no chains: "card" must not join "health card" and "credit card"); put the catalogue's
 * official term in the group too; run the relevance test (relevance.test.ts) after every change.
 */
export interface SynonymGroup {
  en: string[];
  fr: string[];
}

export const SYNONYMS: SynonymGroup[] = [
  // Identity, travel and citizenship
  { en: ['passport', 'travel document'], fr: ['passeport', 'titre de voyage'] },
  { en: ['visa', 'visitor visa', 'temporary resident visa', 'tourist visa'], fr: ['visa', 'visa de visiteur', 'visa de résident temporaire'] },
  { en: ['eta', 'electronic travel authorization'], fr: ['ave', 'autorisation de voyage électronique'] },
  { en: ['citizenship', 'citizen', 'naturalization', 'naturalisation'], fr: ['citoyenneté', 'citoyen', 'naturalisation'] },
  { en: ['permanent resident', 'pr card', 'permanent residence', 'landed immigrant'], fr: ['résident permanent', 'carte rp', 'résidence permanente'] },
  { en: ['immigrate', 'immigration', 'immigrant', 'newcomer', 'move to canada'], fr: ['immigrer', 'immigration', 'immigrant', 'nouvel arrivant', 'nouveaux arrivants'] },
  { en: ['refugee', 'asylum', 'asylum claim'], fr: ['réfugié', 'asile', "demande d'asile"] },
  { en: ['work permit', 'permission to work'], fr: ['permis de travail'] },
  { en: ['study permit', 'student visa'], fr: ["permis d'études", 'visa étudiant'] },
  { en: ['border', 'customs', 'border crossing'], fr: ['frontière', 'douane', 'douanes'] },
  { en: ['nexus', 'trusted traveller'], fr: ['nexus', 'voyageur digne de confiance'] },
  { en: ['sin', 'social insurance number'], fr: ['nas', "numéro d'assurance sociale"] },
  { en: ['birth certificate', 'proof of birth'], fr: ['certificat de naissance', 'acte de naissance'] },
  { en: ['id card', 'identity card', 'identification'], fr: ["carte d'identité", 'pièce d’identité', 'identification'] },

  // Firearms, justice and public safety
  { en: ['gun', 'guns', 'firearm', 'rifle', 'shotgun', 'handgun', 'weapon'], fr: ['fusil', 'arme', 'arme à feu', 'carabine', 'arme de poing'] },
  { en: ['gun licence', 'firearms licence', 'pal', 'possession and acquisition licence'], fr: ["permis d'armes à feu", 'ppa', "permis de possession et d'acquisition"] },
  { en: ['pardon', 'record suspension', 'criminal record', 'clear my record'], fr: ['pardon', 'suspension du casier', 'casier judiciaire', 'réhabilitation'] },
  { en: ['criminal record check', 'background check', 'police check', 'fingerprints'], fr: ['vérification du casier judiciaire', 'vérification des antécédents', 'empreintes digitales'] },
  { en: ['police', 'rcmp', 'mountie'], fr: ['police', 'grc', 'gendarmerie'] },
  { en: ['prison', 'jail', 'penitentiary', 'inmate', 'offender'], fr: ['prison', 'pénitencier', 'détenu', 'délinquant'] },
  { en: ['parole', 'conditional release'], fr: ['libération conditionnelle'] },
  { en: ['victim', 'victims of crime'], fr: ['victime', "victimes d'actes criminels"] },
  { en: ['fraud', 'scam'], fr: ['fraude', 'arnaque'] },
  { en: ['emergency', 'disaster'], fr: ['urgence', 'catastrophe', 'sinistre'] },

  // Transport
  { en: ['boat', 'pleasure craft', 'small vessel', 'canoe', 'kayak', 'sailboat', 'motorboat'], fr: ['bateau', 'embarcation de plaisance', 'petit bâtiment', 'canot', 'voilier'] },
  { en: ['ship', 'vessel'], fr: ['navire', 'bâtiment'] },
  { en: ['boat licence', 'pleasure craft licence'], fr: ['permis de bateau', "permis d'embarcation de plaisance"] },
  { en: ['boating licence', 'pleasure craft operator card', 'boat driving licence'], fr: ["carte de conducteur d'embarcation de plaisance", 'permis de bateau'] },
  { en: ['sailor', 'seafarer', 'mariner', 'seaman'], fr: ['marin', 'gens de mer', 'matelot'] },
  { en: ['plane', 'airplane', 'aeroplane', 'aircraft'], fr: ['avion', 'aéronef', 'aéronefs'] },
  { en: ['drone', 'remotely piloted aircraft', 'uav'], fr: ['drone', 'aéronef télépiloté'] },
  { en: ['pilot licence', 'pilot permit', 'flight crew licence'], fr: ['licence de pilote', 'permis de pilote'] },
  { en: ['airport', 'aerodrome'], fr: ['aéroport', 'aérodrome'] },
  { en: ['train', 'rail', 'railway'], fr: ['train', 'ferroviaire', 'chemin de fer'] },
  { en: ['car', 'vehicle', 'automobile'], fr: ['voiture', 'véhicule', 'automobile', 'auto'] },
  { en: ['driver licence', "driver's license", 'driving licence'], fr: ['permis de conduire'] },
  { en: ['truck', 'lorry', 'commercial vehicle'], fr: ['camion', 'véhicule commercial'] },
  { en: ['dangerous goods', 'hazardous materials'], fr: ['marchandises dangereuses', 'matières dangereuses'] },

  // Money, benefits and taxes
  { en: ['tax', 'taxes', 'income tax'], fr: ['impôt', 'impôts', 'taxe', 'impôt sur le revenu'] },
  { en: ['tax return', 'file taxes', 'tax filing', 'income tax return'], fr: ["déclaration d'impôt", 'déclaration de revenus', 'produire sa déclaration'] },
  { en: ['gst', 'hst', 'sales tax'], fr: ['tps', 'tvh', 'taxe de vente'] },
  { en: ['refund', 'rebate', 'reimbursement'], fr: ['remboursement', 'ristourne'] },
  { en: ['benefit', 'benefits', 'allowance', 'payment'], fr: ['prestation', 'prestations', 'allocation', 'paiement'] },
  { en: ['child benefit', 'baby bonus', 'ccb', 'family allowance'], fr: ['allocation pour enfants', 'ace', 'allocations familiales'] },
  { en: ['unemployment', 'employment insurance', 'ei', 'jobless benefits'], fr: ['chômage', 'assurance-emploi', 'assurance emploi', 'ae'] },
  // losing one's job: the life event's own name ("Losing a job" / "Perdre son emploi", indexed with its services'
  // keywords) with the ways people say it; it finds the event's services (EI, Job Bank, student aid, food support)
  { en: ['losing a job', 'lost my job', 'lose my job', 'job loss'], fr: ['perdre son emploi', 'perdu mon emploi', 'perte d’emploi', "perte d'emploi"] },
  { en: ['maternity leave', 'parental leave', 'maternity benefits', 'parental benefits'], fr: ['congé de maternité', 'congé parental', 'prestations de maternité', 'prestations parentales'] },
  { en: ['sick leave', 'sickness benefits'], fr: ['congé de maladie', 'prestations de maladie'] },
  { en: ['pension', 'retirement', 'retire', 'retirement income'], fr: ['pension', 'retraite', 'rente', 'revenu de retraite'] },
  { en: ['cpp', 'canada pension plan'], fr: ['rpc', 'régime de pensions du canada'] },
  { en: ['oas', 'old age security', 'old age pension', 'seniors pension'], fr: ['sv', 'sécurité de la vieillesse', 'pension de vieillesse'] },
  { en: ['gis', 'guaranteed income supplement'], fr: ['srg', 'supplément de revenu garanti'] },
  { en: ['senior', 'seniors', 'elderly', 'older adults'], fr: ['aîné', 'aînés', 'personnes âgées'] },
  { en: ['disability', 'disabled', 'handicap', 'impairment'], fr: ['invalidité', 'handicap', 'handicapé', 'incapacité'] },
  { en: ['welfare', 'social assistance', 'income support'], fr: ['aide sociale', 'bien-être social', 'soutien du revenu'] },
  { en: ['student loan', 'student aid', 'student grant', 'osap'], fr: ['prêt étudiant', 'prêts aux étudiants', 'aide financière aux études', 'bourse'] },
  { en: ['grant', 'funding', 'subsidy', 'contribution'], fr: ['subvention', 'financement', 'contribution', 'aide financière'] },
  { en: ['loan', 'credit'], fr: ['prêt', 'crédit'] },
  { en: ['debt', 'owe money', 'overpayment'], fr: ['dette', 'trop-payé', 'créance'] },
  { en: ['direct deposit', 'bank account'], fr: ['dépôt direct', 'compte bancaire'] },
  { en: ['bankruptcy', 'insolvency'], fr: ['faillite', 'insolvabilité'] },
  { en: ['savings', 'rrsp', 'tfsa', 'resp'], fr: ['épargne', 'reer', 'celi', 'reee'] },

  // Work and business
  { en: ['job', 'jobs', 'employment', 'work'], fr: ['emploi', 'emplois', 'travail', 'boulot', 'job'] },
  { en: ['job search', 'job bank', 'find a job', 'looking for work'], fr: ["recherche d'emploi", 'guichet-emplois', 'trouver un emploi'] },
  { en: ['apprentice', 'apprenticeship', 'trades'], fr: ['apprenti', 'apprentissage', 'métiers'] },
  { en: ['record of employment', 'roe'], fr: ["relevé d'emploi", 're'] },
  { en: ['business', 'company', 'enterprise', 'firm'], fr: ['entreprise', 'société', 'compagnie'] },
  { en: ['start a business', 'starting a business', 'new business', 'incorporate', 'incorporation'], fr: ['démarrer une entreprise', 'créer une entreprise', 'constitution en société', 'incorporation'] },
  { en: ['business number', 'bn'], fr: ["numéro d'entreprise", 'ne'] },
  { en: ['trademark', 'brand', 'trade mark'], fr: ['marque de commerce', 'marque'] },
  { en: ['patent', 'invention'], fr: ['brevet', 'invention'] },
  { en: ['copyright', 'author rights'], fr: ["droit d'auteur", "droits d'auteur"] },
  { en: ['import', 'importing', 'bring into canada'], fr: ['importation', 'importer'] },
  { en: ['export', 'exporting', 'ship abroad'], fr: ['exportation', 'exporter'] },
  { en: ['small business', 'sme', 'small and medium enterprises'], fr: ['petite entreprise', 'pme', 'petites et moyennes entreprises'] },
  { en: ['workplace safety', 'occupational health and safety', 'health and safety at work'], fr: ['santé et sécurité au travail', 'sst', 'sécurité au travail'] },
  { en: ['wage', 'salary', 'pay'], fr: ['salaire', 'paie', 'rémunération'] },
  { en: ['farmer', 'farm', 'agriculture', 'farming'], fr: ['agriculteur', 'ferme', 'agriculture', 'exploitation agricole'] },
  { en: ['fisher', 'fishing', 'fishery', 'fisheries'], fr: ['pêcheur', 'pêche', 'pêches'] },
  { en: ['hunting', 'hunter'], fr: ['chasse', 'chasseur'] },

  // Family, health and life events
  { en: ['baby', 'newborn', 'infant'], fr: ['bébé', 'nouveau-né', 'nourrisson'] },
  { en: ['child', 'children', 'kids'], fr: ['enfant', 'enfants', 'jeunes'] },
  { en: ['child care', 'childcare', 'daycare', 'day care'], fr: ['garde d’enfants', 'garderie', 'service de garde'] },
  { en: ['adoption', 'adopt'], fr: ['adoption', 'adopter'] },
  { en: ['marriage', 'married', 'wedding'], fr: ['mariage', 'marié', 'noces'] },
  { en: ['divorce', 'separation', 'separated'], fr: ['divorce', 'séparation', 'séparé'] },
  { en: ['death', 'died', 'deceased', 'passed away', 'funeral'], fr: ['décès', 'décédé', 'défunt', 'funérailles', 'mort'] },
  { en: ['survivor', 'widow', 'widower'], fr: ['survivant', 'veuve', 'veuf', 'conjoint survivant'] },
  { en: ['moving', 'move', 'relocate', 'change of address', 'new address'], fr: ['déménagement', 'déménager', "changement d'adresse", 'nouvelle adresse'] },
  { en: ['health', 'medical', 'healthcare'], fr: ['santé', 'médical', 'soins de santé'] },
  { en: ['health card', 'medical card', 'ohip'], fr: ['carte santé', "carte d'assurance maladie", 'ramo'] },
  { en: ['dental', 'dentist', 'teeth'], fr: ['dentaire', 'dentiste', 'dents'] },
  { en: ['drug', 'drugs', 'medication', 'medicine', 'prescription'], fr: ['médicament', 'médicaments', 'ordonnance', 'drogue'] },
  { en: ['vaccine', 'vaccination', 'immunization', 'shot'], fr: ['vaccin', 'vaccination', 'immunisation'] },
  { en: ['covid', 'coronavirus', 'pandemic'], fr: ['covid', 'coronavirus', 'pandémie'] },
  { en: ['mental health', 'stress', 'ptsd'], fr: ['santé mentale', 'stress', 'tspt'] },
  { en: ['homeless', 'homelessness', 'shelter'], fr: ['itinérance', 'sans-abri', 'refuge'] },
  { en: ['housing', 'home', 'house', 'rent', 'mortgage'], fr: ['logement', 'maison', 'loyer', 'hypothèque', 'habitation'] },
  { en: ['caregiver', 'carer', 'family caregiver'], fr: ['aidant', 'proche aidant', 'aidant naturel'] },
  { en: ['food', 'groceries', 'meal'], fr: ['nourriture', 'aliments', 'alimentation', 'épicerie', 'repas'] },
  { en: ['food safety', 'food recall', 'food inspection'], fr: ['salubrité des aliments', 'rappel d’aliments', 'inspection des aliments'] },
  { en: ['pet', 'dog', 'cat', 'animal'], fr: ['animal de compagnie', 'chien', 'chat', 'animal'] },

  // Veterans, Indigenous peoples, youth
  { en: ['veteran', 'veterans', 'ex-military', 'former soldier'], fr: ['vétéran', 'vétérans', 'ancien combattant', 'anciens combattants'] },
  { en: ['military', 'armed forces', 'soldier', 'army', 'caf'], fr: ['militaire', 'forces armées', 'soldat', 'armée', 'faC'] },
  { en: ['indigenous', 'first nations', 'aboriginal', 'native', 'inuit', 'metis'], fr: ['autochtone', 'autochtones', 'premières nations', 'inuit', 'métis'] },
  { en: ['status card', 'indian status', 'secure certificate of indian status'], fr: ['carte de statut', 'statut d’indien', 'certificat sécurisé de statut indien'] },
  { en: ['youth', 'young people', 'teen', 'teenager'], fr: ['jeunesse', 'jeunes', 'adolescent'] },
  { en: ['student', 'students', 'school', 'university', 'college'], fr: ['étudiant', 'étudiants', 'école', 'université', 'collège', 'cégep'] },

  // Environment, weather and nature
  { en: ['weather', 'forecast', 'meteorology'], fr: ['météo', 'prévisions', 'météorologie'] },
  { en: ['park', 'national park', 'camping'], fr: ['parc', 'parc national', 'camping'] },
  { en: ['wildfire', 'forest fire'], fr: ['feu de forêt', 'incendie de forêt', 'feux de forêt'] },
  { en: ['flood', 'flooding'], fr: ['inondation', 'inondations'] },
  { en: ['pollution', 'contamination', 'spill'], fr: ['pollution', 'contamination', 'déversement'] },
  { en: ['climate change', 'greenhouse gas', 'emissions'], fr: ['changement climatique', 'changements climatiques', 'gaz à effet de serre', 'émissions'] },
  { en: ['wildlife', 'species at risk', 'endangered species'], fr: ['faune', 'espèces en péril', 'espèces menacées'] },
  { en: ['water', 'drinking water'], fr: ['eau', 'eau potable'] },

  // Communications, culture and government
  { en: ['radio licence', 'spectrum licence', 'radio frequency'], fr: ['licence radio', 'licence de spectre', 'radiofréquence'] },
  { en: ['ham radio', 'amateur radio', 'radio operator'], fr: ['radioamateur', 'radio amateur', 'opérateur radio'] },
  { en: ['internet', 'broadband', 'high speed internet'], fr: ['internet', 'large bande', 'haute vitesse'] },
  { en: ['museum', 'heritage', 'archives'], fr: ['musée', 'patrimoine', 'archives'] },
  { en: ['library', 'book', 'books'], fr: ['bibliothèque', 'livre', 'livres'] },
  { en: ['complaint', 'complain', 'grievance'], fr: ['plainte', 'se plaindre', 'grief'] },
  { en: ['appeal', 'review a decision', 'reconsideration'], fr: ['appel', 'révision', 'réexamen'] },
  { en: ['access to information', 'atip', 'foi', 'freedom of information'], fr: ["accès à l'information", 'aiprp'] },
  { en: ['privacy', 'personal information'], fr: ['vie privée', 'renseignements personnels', 'confidentialité'] },
  { en: ['vote', 'voting', 'election', 'elections'], fr: ['vote', 'voter', 'élection', 'élections'] },
  { en: ['statistics', 'data', 'census'], fr: ['statistiques', 'données', 'recensement'] },
  { en: ['map', 'maps', 'geospatial'], fr: ['carte géographique', 'cartes', 'géospatial'] },
  { en: ['cannabis', 'marijuana', 'weed', 'pot'], fr: ['cannabis', 'marijuana', 'pot'] },
  { en: ['alcohol', 'liquor', 'beer', 'wine'], fr: ['alcool', 'boisson alcoolisée', 'bière', 'vin'] },
  { en: ['tobacco', 'cigarettes', 'vaping'], fr: ['tabac', 'cigarettes', 'vapotage'] },
  { en: ['call centre', 'phone line', 'hotline', 'contact centre'], fr: ["centre d'appels", 'ligne téléphonique', 'centre de contact'] },
  { en: ['inquiry', 'enquiry', 'question', 'questions'], fr: ['demande de renseignements', 'question', 'questions'] },
  { en: ['licence', 'permit', 'authorization'], fr: ['permis', 'licence', 'autorisation'] },
  { en: ['apply', 'application', 'request'], fr: ['demande', 'demander', 'faire une demande'] },
  { en: ['renew', 'renewal'], fr: ['renouveler', 'renouvellement'] },
  { en: ['replace', 'replacement', 'lost', 'stolen'], fr: ['remplacer', 'remplacement', 'perdu', 'volé'] },
];
