// Every fault scenario, in the order `npm run chaos` runs them (issue 14's numbering).
import type { Scale, ScenarioResult } from "../lib/results";
import * as killApi from "./kill-api-instance";
import * as redis from "./redis-trouble";
import * as rabbitmq from "./rabbitmq-outage";
import * as postgres from "./postgres-restart";
import * as nginx from "./nginx-reload";
import * as sigterm from "./sigterm-api-instance";
import * as backup from "./backup-volume";
import * as churn from "./churn-soak";

export interface FaultScenario {
  id: string;
  run(scale: Scale): Promise<ScenarioResult>;
}

export const scenarios: FaultScenario[] = [
  { id: "kill-api-instance", run: killApi.run },
  { id: "redis-trouble", run: redis.run },
  { id: "rabbitmq-outage", run: rabbitmq.run },
  { id: "postgres-restart", run: postgres.run },
  { id: "nginx-reload", run: nginx.run },
  { id: "sigterm-api-instance", run: sigterm.run },
  { id: "backup-volume", run: backup.run },
  { id: "churn-soak", run: churn.run },
];
