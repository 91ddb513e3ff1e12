// The image's HEALTHCHECK (`node /app/dist/healthcheck.js`, no curl needed): GET /health on
// this container's own server. `worker` serves it on METRICS_PORT, `serve` on PORT (HTTPS when
// SSL_CERTFILE is set); which one runs is read from PID 1's command line. A `backup` scheduler
// has no server: it is healthy unless its last run failed (it records each run in /tmp).
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

function mainCommand(): string {
  try {
    return readFileSync("/proc/1/cmdline", "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

const command = mainCommand();
if (/\b(backup|restore|migrate|create-client)\b/.test(command)) {
  let healthy = true;
  try {
    healthy = (JSON.parse(readFileSync("/tmp/chatapi-backup-status.json", "utf8")) as { ok: boolean }).ok;
  } catch {
    // No run finished yet (or not a scheduler): the process being there is all there is to check.
  }
  process.exit(healthy ? 0 : 1);
}
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
