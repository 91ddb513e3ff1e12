// The HTTP server of the worker and of the backup scheduler on METRICS_PORT: /health (alive),
// /health/ready (503 listing what fails: for the worker PostgreSQL, Redis and an active RabbitMQ
// consumer, and while stopping), /metrics.
import http from "node:http";
import type { Registry } from "prom-client";
import { VERSION } from "../version.js";

export type ReadinessProbe = () => Promise<Record<string, string>>;

export async function startHealthServer(
  port: number,
  metrics: { registry: Registry },
  ready: ReadinessProbe,
) {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "GET" && req.method !== "HEAD") return json(405, { detail: "method not allowed" });
    if (path === "/health")
      return json(200, { status: "healthy", timestamp: new Date().toISOString(), version: VERSION });
    if (path === "/health/ready") {
      void ready().then(
        (failures) =>
          Object.keys(failures).length === 0
            ? json(200, { status: "ready" })
            : json(503, { status: "not ready", failures }),
        (error: Error) => json(503, { status: "not ready", failures: { worker: error.message } }),
      );
      return;
    }
    if (path === "/metrics") {
      void metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        },
        (error: Error) => json(500, { detail: error.message }),
      );
      return;
    }
    json(404, { detail: "not found" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
