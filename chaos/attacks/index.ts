// The attack list `npm run chaos` (chaos/run.ts) runs and reports in docs/RELIABILITY.md; the
// short form (chaos/attacks.chaos.test.ts) runs each once and asserts its checks.
import type { AttackResult, Scale } from "../lib/results";
import {
  catchUpFailure,
  commitReset,
  lostPublish,
  removedMember,
  roomStreamLeak,
  subscribeChurn,
} from "./delivery-findings";
import {
  edgeLimits,
  expiredTokenLockout,
  plantedDump,
  readinessExposure,
  spoofedAddress,
} from "./edge-findings";
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
  // Issue 23's findings (numbers as in the issue), each failing on the code before its fix.
  { id: "room-stream-leak", title: "A room subscribed twice on one socket, then left", run: roomStreamLeak },
  { id: "removed-member", title: "1. A member removed while the kick cannot arrive", run: removedMember },
  { id: "subscribe-churn", title: "3. Subscribes to random room ids", run: subscribeChurn },
  { id: "lost-publish", title: "4. A committed message whose publish was lost", run: lostPublish },
  { id: "commit-reset", title: "5. A connection reset after a batch committed", run: commitReset },
  { id: "catch-up-failure", title: "6. A failed catch-up read", run: catchUpFailure },
  { id: "spoofed-address", title: "2. A client writing X-Forwarded-For through nginx", run: spoofedAddress },
  { id: "expired-token-lockout", title: "7. Expired tokens from one address", run: expiredTokenLockout },
  { id: "planted-dump", title: "8. A planted dump and a dump without checksum", run: plantedDump },
  { id: "readiness-exposure", title: "9. /health/ready from outside and in bulk", run: readinessExposure },
  { id: "edge-limits", title: "10. Floods at nginx; credentials per process", run: edgeLimits },
];
