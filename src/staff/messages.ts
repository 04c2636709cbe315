import type { Messages } from '../i18n/index';

/** Messages of the staff capability (same keys in both languages). */
export const messages: Messages = {
  en: {
    'staff.devLogin.warning': 'Development sign-in: choose a demonstration staff member. Not available in production.',
    'staff.devLogin.who': 'Sign in as',
    'staff.devLogin.choose': 'Choose who you are signing in as.',
    'staff.warning': 'Warning',
    'staff.signIn': 'Sign in',
    'staff.home.signedInAs': 'Signed in as {name}, {org}.',
    'staff.home.roles': 'Roles:',
    'staff.link.catalogue': 'Service descriptions (information bank and editing)',
    'staff.link.console': 'Agent console (counter and contact centre)',
    'staff.link.cases': 'Cases of my organisation and referrals to us',
  },
  fr: {
    'staff.devLogin.warning': 'Connexion de développement : choisissez un membre du personnel de démonstration. Non offerte en production.',
    'staff.devLogin.who': 'Se connecter en tant que',
    'staff.devLogin.choose': 'Choisissez la personne en tant que laquelle vous vous connectez.',
    'staff.warning': 'Avertissement',
    'staff.signIn': 'Se connecter',
    'staff.home.signedInAs': 'Connecté en tant que {name}, {org}.',
    'staff.home.roles': 'Rôles :',
    'staff.link.catalogue': 'Descriptions de services (banque d’information et rédaction)',
    'staff.link.console': 'Console de l’agent (comptoir et centre d’appels)',
    'staff.link.cases': 'Dossiers de mon organisation et aiguillages reçus',
  },
};
