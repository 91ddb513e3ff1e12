// An app server inside the test process (when a test needs its internals).
import { Writable } from "node:stream";
import { loadConfig } from "../../src/config/env.js";
import { createLogger } from "../../src/observability/logger.js";
import { startServer, type RunningServer } from "../../src/server.js";

export interface InProcessServer extends RunningServer {
  /** Every log line written so far (JSON). */
  logs: string[];
}

export async function startInProcess(env: Record<string, string>): Promise<InProcessServer> {
  const config = loadConfig(env, { needsSecretKey: true });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({
    level: config.LOG_LEVEL,
    instance: config.INSTANCE_NAME,
    environment: "test",
    destination,
  });
  const server = await startServer(config, { logger, defaultMetrics: false, drainTimeoutMs: 3000 });
  return Object.assign(server, { logs });
}
