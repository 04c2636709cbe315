import type { Messages } from '../../i18n/index';

/** Messages of catalogue/portal (same keys in both languages). */
export const messages: Messages = { en: {}, fr: {} };
