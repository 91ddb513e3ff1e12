// JSON logs (pino) on stdout and, when LOG_FILE is set, also to that file with the guide's
// rotation (10 MB, 5 old files: chatapi.log.1 … chatapi.log.5, like Python's RotatingFileHandler).
import { basename, dirname } from "node:path";
import { pino, type DestinationStream, type Logger } from "pino";
import { createStream } from "rotating-file-stream";

export type { Logger } from "pino";

export interface LoggerOptions {
  level: string;
  instance: string;
  environment: string;
  logFile?: string | undefined;
  /** Overrides stdout (tests). */
  destination?: DestinationStream;
}

/** Paths that must never reach a log line: credentials in headers and bodies. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "api_key",
  "access_token",
  "refresh_token",
  "token",
  "*.api_key",
  "*.access_token",
  "*.refresh_token",
  "*.token",
];

/** Query parameters whose values are credentials (`/ws?token=…`, clients that put keys in URLs). */
const SECRET_PARAM = /token|key|secret|passw|auth|sig|session|code|credential/i;

/**
 * The URL as it may be logged: values of credential-like query parameters replaced. A client
 * that puts its token or API key in a query string must not get it written to the logs.
 */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  const q = url.indexOf("?");
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed escape: judge the raw name
      }
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join("&");
  return `${url.slice(0, q)}?${query}`;
}

export const LOG_FILE_MAX_SIZE = "10M";
export const LOG_FILE_BACKUPS = 5;

export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: { service: "chatapi", instance: options.instance, env: options.environment },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const stdout = options.destination ?? pino.destination({ dest: 1, sync: false });
  if (!options.logFile) return pino(settings, stdout);
  const name = basename(options.logFile);
  // With `rotate`, rotating-file-stream passes the rotation index (null for the live file).
  const generator = (index: number | Date | null) =>
    typeof index === "number" && index > 0 ? `${name}.${index}` : name;
  const file = createStream(generator, {
    path: dirname(options.logFile),
    size: LOG_FILE_MAX_SIZE,
    rotate: LOG_FILE_BACKUPS,
  });
  return pino(settings, pino.multistream([{ stream: stdout }, { stream: file }]));
}
