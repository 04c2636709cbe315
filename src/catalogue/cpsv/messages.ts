import type { Messages } from '../../i18n/index';

/** Messages of catalogue/cpsv (same keys in both languages). */
export const messages: Messages = { en: {}, fr: {} };
