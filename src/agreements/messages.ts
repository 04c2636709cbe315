import type { Messages } from '../i18n/index';

/** Messages of the agreements capability (same keys in both languages). */
export const messages: Messages = {
  en: {
    'errors.INVALID_AMOUNT': 'An amount must be a whole number of cents, not negative, and at most $100,000.',
    'errors.INVALID_DATE': 'Enter a real date (YYYY-MM-DD); an end date cannot be before the start date.',
    'errors.FEE_SERVICE_NOT_FOUND': 'There is no such service.',
    'errors.FEE_VERSION_NOT_FOUND': 'There is no such fee version.',
    'errors.FEE_VERSION_OVERLAP': 'Another fee version of this service and channel is in force on some of these days. End it first, or choose other dates.',
    'errors.FEE_ABOVE_CAP': 'A fee above the statutory fee is refused unless the agreement records the legal basis for it.',
    'errors.SERVICE_FEE_EXCEEDS_STATUTORY': 'The one-stop’s share cannot be larger than the statutory fee it is taken out of.',
    'errors.AGREEMENT_NOT_COVERING': 'This agreement does not cover this service on this channel.',
  },
  fr: {
    'errors.INVALID_AMOUNT': 'Un montant doit être un nombre entier de cents, non négatif, d’au plus 100 000 $.',
    'errors.INVALID_DATE': 'Entrez une date réelle (AAAA-MM-JJ); une date de fin ne peut précéder la date de début.',
    'errors.FEE_SERVICE_NOT_FOUND': 'Ce service n’existe pas.',
    'errors.FEE_VERSION_NOT_FOUND': 'Cette version de tarif n’existe pas.',
    'errors.FEE_VERSION_OVERLAP': 'Une autre version du tarif de ce service et de ce mode est en vigueur à certaines de ces dates. Terminez-la d’abord ou choisissez d’autres dates.',
    'errors.FEE_ABOVE_CAP': 'Des frais supérieurs aux droits prévus par la loi sont refusés à moins que l’entente n’en indique le fondement juridique.',
    'errors.SERVICE_FEE_EXCEEDS_STATUTORY': 'La part du guichet unique ne peut dépasser les droits prévus par la loi dont elle est prélevée.',
    'errors.AGREEMENT_NOT_COVERING': 'Cette entente ne couvre pas ce service dans ce mode de prestation.',
  },
};
