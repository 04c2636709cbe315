import type { Messages } from '../i18n/index';

/** Messages of the payments capability (same keys in both languages). */
export const messages: Messages = {
  en: {
  },
  fr: {
  },
};
