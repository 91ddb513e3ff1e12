// The image's HEALTHCHECK (`node /app/dist/healthcheck.js`, no curl needed): GET /health on
// this container's own server. `worker` serves it on METRICS_PORT, `serve` on PORT (HTTPS when
// SSL_CERTFILE is set); which one runs is read from PID 1's command line. A `backup` container
// is healthy while it can write BACKUP_DIR and its last run (scheduled or by hand) did not fail;
// the reason is printed, so `docker inspect` and `scripts/local status` show it.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { backupHealthProblem } from "./backup/status.js";

function mainCommand(): string {
  try {
    return readFileSync("/proc/1/cmdline", "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

const command = mainCommand();
if (/\bbackup\b/.test(command)) {
  const problem = backupHealthProblem(process.env.BACKUP_DIR || "/backups");
  console.log(
    problem ? `unhealthy: ${problem}` : "healthy: backups can be written, the last run did not fail",
  );
  process.exit(problem ? 1 : 0);
}
// A one-shot command (Docker switches the check off for them; run by hand it has no server).
if (/\b(restore|migrate|create-client)\b/.test(command)) process.exit(0);
const isWorker = /\bworker\b/.test(command);
const port = Number((isWorker ? process.env.METRICS_PORT : process.env.PORT) || (isWorker ? 9000 : 8000));
const tls = !isWorker && Boolean(process.env.SSL_CERTFILE);
// The certificate names the public host, not 127.0.0.1: verifying it here proves nothing.
const request = (tls ? https : http).get(
  { host: "127.0.0.1", port, path: "/health", timeout: 4000, rejectUnauthorized: false },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
request.on("timeout", () => request.destroy(new Error("timeout")));
request.on("error", () => process.exit(1));
