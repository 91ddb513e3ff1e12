// Outgoing mail over SMTP (nodemailer) from SMTP_* and EMAILS_FROM_EMAIL. Pooled connections,
// one per concurrent job at most; bounded timeouts so a stuck server fails the attempt (and the
// job is retried) instead of holding it forever.
import nodemailer, { type Transporter } from "nodemailer";
import { PermanentJobError } from "./job.js";

export interface MailerSettings {
  host: string;
  port: number;
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  fromName: string;
  maxConnections: number;
}

export interface OutgoingMail {
  to: { name: string; address: string };
  subject: string;
  text: string;
  /** Derived from the idempotency key: a duplicate (see README) carries the same Message-ID. */
  messageId: string;
}

export interface SentMail {
  messageId: string;
  response: string;
}

export class Mailer {
  private readonly transport: Transporter;

  constructor(private readonly settings: MailerSettings) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      // 465 is SMTP over TLS; other ports upgrade with STARTTLS when the server offers it.
      secure: settings.port === 465,
      ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? "" } } : {}),
      pool: true,
      maxConnections: settings.maxConnections,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  /** The domain of the sender address, for Message-IDs. */
  get domain(): string {
    return this.settings.from.split("@")[1] ?? "localhost";
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    try {
      const info = (await this.transport.sendMail({
        from: { name: this.settings.fromName, address: this.settings.from },
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        messageId: mail.messageId,
      })) as { messageId: string; response: string };
      return { messageId: info.messageId, response: info.response };
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      // 5xx: the server refuses this mail for good (bad recipient, policy); retrying cannot help.
      if (code !== undefined && code >= 500 && code < 600) {
        throw new PermanentJobError(`SMTP server refused the mail (${code}): ${(error as Error).message}`);
      }
      throw error;
    }
  }

  /** Connects and authenticates (readiness). */
  async verify(): Promise<void> {
    await this.transport.verify();
  }

  close(): void {
    this.transport.close();
  }
}
