// The attack list `npm run chaos` (chaos/run.ts) runs and reports in docs/RELIABILITY.md; the
// short form (chaos/attacks.chaos.test.ts) runs each once and asserts its checks.
import type { AttackResult, Scale } from "../lib/results";
import { bruteForce, idleConnections, wsSendFlood } from "./floods";
import { inputFuzzing } from "./fuzz";
import { runtimeHardening } from "./hardening";
import { secretLeaks } from "./secrets";
import { tenantIsolation } from "./tenants";
import { forgedTokens, refreshRace } from "./tokens";

export interface Attack {
  id: string;
  title: string;
  run(scale: Scale): Promise<AttackResult>;
}

export const attacks: Attack[] = [
  { id: "forged-tokens", title: "Forged, expired and mis-addressed access tokens", run: forgedTokens },
  { id: "refresh-race", title: "Concurrent refreshes of one refresh token", run: refreshRace },
  {
    id: "tenant-isolation",
    title: "Another tenant's ids and tokens on every endpoint",
    run: tenantIsolation,
  },
  {
    id: "input-fuzzing",
    title: "Property-based fuzzing of every REST operation and WebSocket frame type",
    run: inputFuzzing,
  },
  { id: "ws-send-flood", title: "WebSocket frame flood", run: wsSendFlood },
  { id: "auth-brute-force", title: "Credential brute force and request floods", run: bruteForce },
  { id: "idle-connections", title: "Many idle WebSockets from one address", run: idleConnections },
  {
    id: "secret-leaks",
    title: "Secrets in logs, /metrics, error bodies, image layers, files in git, Pulumi state",
    run: secretLeaks,
  },
  { id: "runtime-hardening", title: "Runtime hardening of the local Docker stack", run: runtimeHardening },
];
