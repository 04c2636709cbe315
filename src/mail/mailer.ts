/**
 * E-mail through SMTP (nodemailer). Configured by SMTP_URL (e.g. smtp://127.0.0.1:1025) and MAIL_FROM.
 * Without SMTP_URL (development), messages are logged as JSON instead of sent. Tests run a real local SMTP server
 * (smtp-server) and point SMTP_URL at it.
 * Every message is bilingual or in the recipient's preferred language: callers pass text for the chosen language.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { maskEmail } from '../http/logging';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  attachments?: Array<{ filename: string; content: string | Buffer; contentType?: string }>;
  /** Extra headers, e.g. { 'Content-Language': 'fr' }. */
  headers?: Record<string, string>;
}

export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string }>;
  close(): void;
}

export function createMailer(env: NodeJS.ProcessEnv = process.env, log?: { info: (o: object, m: string) => void }): Mailer {
  const from = env.MAIL_FROM ?? 'Guichet <no-reply@guichet.example>';
  const transport: Transporter = env.SMTP_URL
    ? nodemailer.createTransport(env.SMTP_URL)
    : nodemailer.createTransport({ jsonTransport: true });
  return {
    async send(m) {
      const info = await transport.sendMail({ from, ...m });
      if (!env.SMTP_URL) log?.info({ recipient: maskEmail(m.to), subject: m.subject }, 'e-mail (not sent: SMTP_URL unset)'); // the address masked: logs hold no addresses
      return { messageId: info.messageId };
    },
    close() {
      transport.close();
    },
  };
}
