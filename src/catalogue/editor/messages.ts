import type { Messages } from '../../i18n/index';

/** Messages of catalogue/editor (same keys in both languages). */
export const messages: Messages = { en: {}, fr: {} };
