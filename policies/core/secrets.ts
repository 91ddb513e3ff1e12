// Recognising secret material without ever printing it: names that carry secrets, values
// that embed them (URLs with a password, private keys, cloud keys) and secret-bearing lines
// in config files.

/** The app's secret-bearing variables (each also accepted as <NAME>_FILE). */
export const APP_SECRET_VARIABLES = [
  "DATABASE_URL",
  "REDIS_URL",
  "RABBITMQ_URL",
  "SECRET_KEY",
  "SMTP_PASSWORD",
  "SENTRY_DSN",
  "BACKUP_S3_ACCESS_KEY_ID",
  "BACKUP_S3_SECRET_ACCESS_KEY",
];

const SECRET_WORDS = new Set([
  "PASSWORD",
  "PASSWD",
  "PASS",
  "PASSPHRASE",
  "PWD",
  "SECRET",
  "TOKEN",
  "DSN",
  "CREDENTIAL",
  "CREDENTIALS",
  "APIKEY",
  "AUTH",
]);
const SECRET_PAIRS = ["API_KEY", "PRIVATE_KEY", "ACCESS_KEY", "SECRET_KEY", "SIGNING_KEY", "ENCRYPTION_KEY"];
/** Names ending like these describe a secret (where it is, how long it lives), not hold it. */
const DESCRIPTIVE_ENDINGS = new Set([
  "FILE",
  "PATH",
  "DIR",
  "MINUTES",
  "SECONDS",
  "HOURS",
  "DAYS",
  "TTL",
  "EXPIRE",
  "EXPIRY",
  "LENGTH",
  "SIZE",
  "ENABLED",
  "COUNT",
  "NAME",
  "USER",
  "USERNAME",
  "HEADER",
]);

export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase().replace(/[-.]/g, "_");
  if (APP_SECRET_VARIABLES.includes(upper)) return true;
  const words = upper.split("_").filter(Boolean);
  if (words.length === 0 || DESCRIPTIVE_ENDINGS.has(words.at(-1)!)) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  return SECRET_PAIRS.some((pair) => `_${upper}_`.includes(`_${pair}_`));
}

/** What kind of secret a value embeds, whatever its name; undefined when none. */
export function embeddedSecret(value: string): string | undefined {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(value)) return "a private key";
  if (/[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s/@]+@/i.test(value)) return "a URL with an embedded password";
  if (/\b(AKIA|ASIA)[0-9A-Z]{16}\b/.test(value)) return "an AWS access key";
  return undefined;
}

/** Config-file lines that set a password (Redis requirepass, RabbitMQ default_pass, ...). */
const SECRET_LINE =
  /^\s*(requirepass|masterauth|default_pass|password|passwd|secret|api[_-]?key|auth[_-]?token)\s*(=|:|\s)\s*("[^"\s]+"|'[^'\s]+'|[^\s#;"']+)/i;

/** 1-based numbers of the lines that set a secret in a config file's text. */
export function secretLines(text: string): number[] {
  return text
    .split("\n")
    .flatMap((line, i) => (SECRET_LINE.test(line) && !/\$\{?\w+\}?$/.test(line.trim()) ? [i + 1] : []));
}

/** A command-line argument that passes a secret (`--password=...`, `--token ...`). */
export function secretArgument(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const match = /^--?([A-Za-z][\w-]*)(=(.*))?$/.exec(args[i]!);
    if (!match || !isSecretName(match[1]!.replace(/-/g, "_"))) continue;
    const value = match[3] ?? args[i + 1];
    if (value && !value.startsWith("-")) return match[1];
  }
  return undefined;
}
