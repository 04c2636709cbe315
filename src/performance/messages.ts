import type { Messages } from '../i18n/index';

/** Messages of the performance capability (same keys in both languages). */
export const messages: Messages = {
  en: {
    'errors.SURVEY_LINK_INVALID': 'This survey link cannot be used. It may have expired or already been used.',
    'performance.mail.subject': 'How did we do? (1 minute, anonymous)',
    'performance.mail.visit': 'your visit to our counter',
    'performance.mail.case': 'your request, now decided',
    'performance.mail.body': 'Thank you for {what}.\n\nPlease tell us how it went: {link}\n\nThe survey is anonymous: your answer is not linked to your name or your file. The link works once and expires in 30 days.',
    'performance.report.subject': 'Guichet: your services in {month}',
    'performance.report.mail': 'What the one-stop delivered for you in {month}: {contacts} contacts, {transactions} transactions.\nThe full report, with satisfaction and comments: {link}',
  },
  fr: {
    'errors.SURVEY_LINK_INVALID': 'Ce lien de sondage ne peut pas être utilisé. Il a peut-être expiré ou déjà servi.',
    'performance.mail.subject': 'Comment avons-nous fait? (1 minute, anonyme)',
    'performance.mail.visit': 'votre visite à notre comptoir',
    'performance.mail.case': 'votre demande, maintenant décidée',
    'performance.mail.body': 'Merci pour {what}.\n\nDites-nous comment cela s’est passé : {link}\n\nLe sondage est anonyme : votre réponse n’est liée ni à votre nom ni à votre dossier. Le lien ne sert qu’une fois et expire dans 30 jours.',
    'performance.report.subject': 'Guichet : vos services en {month}',
    'performance.report.mail': 'Ce que le guichet unique a fait pour vous en {month} : {contacts} contacts, {transactions} transactions.\nLe rapport complet, avec la satisfaction et les commentaires : {link}',
  },
};
