// Addresses of the shared PostgreSQL / Redis / RabbitMQ that scripts/setup started (the same
// files the tests read).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface Services {
  databaseUrl: string;
  redisUrl: string;
  rabbitmqUrl: string;
}

export function loadServices(): Services {
  const dir = process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");
  const env: Record<string, string> = {};
  for (const file of ["services.env", "services.urls.env"]) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      if (match) env[match[1]!] = match[2]!;
    }
  }
  const get = (name: string) => {
    const value = process.env[name] ?? env[name];
    if (!value)
      throw new Error(
        `${name} is not set: run bash scripts/setup first (it starts PostgreSQL, Redis and RabbitMQ)`,
      );
    return value;
  };
  return {
    databaseUrl: get("CHATAPI_TEST_DATABASE_URL"),
    redisUrl: get("CHATAPI_TEST_REDIS_URL"),
    rabbitmqUrl: get("CHATAPI_TEST_RABBITMQ_URL"),
  };
}
