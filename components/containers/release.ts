// The release model of a Docker host, followed by both engines (the Pulumi Docker target and
// the compose deploy of scripts/local). Pure.
//
// A release is the app at one image and one configuration. Every container of the app image
// (migration, admin bootstrap, API instances, workers, backups) belongs to one: its id is in
// the container's name (chatapi-<stack>-api-<release>-1) and label chatapi.release, so a new
// release starts beside the live one. The stack's own containers (data stores, nginx) are
// shared by every release and never wait for one. A deploy, in this order:
//   1. runs the release's one-shot jobs (the migration, then the admin bootstrap): each exits 0;
//   2. starts its services; each must become healthy within the gate's timeout (their Docker
//      health check is their readiness check, /health/ready): the health gate;
//   3. switches nginx: its upstream servers file (releaseServersFile) lists the release's API
//      instances, then nginx reloads gracefully (`nginx -t`, then `nginx -s reload`);
//   4. stops the previous release's containers (SIGTERM and their stop grace period: requests
//      finish, WebSockets close with 1001, jobs finish or return to the queue), then removes them.
// A failure before step 3 removes the new release's containers: traffic never moved.
import { createHash } from "node:crypto";
import { renderReleaseServers } from "../nginx/render-nginx-config";
import { dockerInstances } from "../plan/names";
import type { DeploymentPlan, HealthCheckPlan, UpstreamServerPlan, WorkloadPlan } from "../plan/types";

export const RELEASE_LABEL = "chatapi.release";

/** 8 hex digits: short enough for host names, enough for the handful of releases a stack keeps. */
export const RELEASE_ID = /^[0-9a-f]{8}$/;

/** Seconds between a release service's readiness checks (Docker's health check). */
export const GATE_POLL_SECONDS = 5;

/** The app's workloads (everything that runs the app image) are a release's. */
export const isReleaseWorkload = (workload: WorkloadPlan): boolean => workload.image === "app";

export interface ReleaseInputs {
  /**
   * The app image as the engine knows it before it creates anything: its ID on the engine
   * (compose), or its reference (Pulumi, where an ID is known only once the image resource is).
   */
  image: string;
  /** Anything else that makes it another release, e.g. a keyed digest of the files it mounts. */
  files?: string;
}

/**
 * The release id: a digest of the image and of the app's workloads as the plan describes them
 * (command, environment, limits, instances, ...). The same image and config give the same id,
 * so deploying what is live is a no-op, and going back to an earlier config gives its id again.
 */
export function releaseId(plan: DeploymentPlan, inputs: ReleaseInputs): string {
  const workloads = plan.workloads.filter(isReleaseWorkload);
  return createHash("sha256")
    .update(JSON.stringify({ image: inputs.image, files: inputs.files ?? "", workloads }))
    .digest("hex")
    .slice(0, 8);
}

/**
 * A release service's Docker health check: its readiness check (dependencies answer, the
 * instance is not draining), polled every GATE_POLL_SECONDS, so "healthy" means "may take
 * traffic". One-shot jobs and schedulers keep what the plan gives them.
 */
export function releaseHealth(workload: WorkloadPlan): { health?: HealthCheckPlan } {
  const check = workload.kind === "service" ? (workload.readiness ?? workload.health) : workload.health;
  if (!check) return {};
  return { health: workload.kind === "service" ? { ...check, intervalSeconds: GATE_POLL_SECONDS } : check };
}

/** How long a release's services may take to become healthy before the deploy gives up. */
export const gateTimeoutSeconds = (plan: DeploymentPlan): number => plan.docker.releases.readyTimeoutSeconds;

/** The API instances nginx sends traffic to while `release` is live. */
export function releaseServers(plan: DeploymentPlan, release: string): UpstreamServerPlan[] {
  const { upstream } = plan.loadBalancer;
  if (upstream.kind !== "release")
    throw new Error(`stack ${plan.stack}: its load balancer does not switch between releases`);
  const api = plan.workloads.find((w) => w.role === "api");
  if (!api) throw new Error(`stack ${plan.stack} has no API workload`);
  return dockerInstances(api, release).map((instance) => ({ host: instance.shortName, port: upstream.port }));
}

/** The upstream servers file of a release: where nginx reads it, and its content. */
export function releaseServersFile(plan: DeploymentPlan, release: string): { path: string; content: string } {
  const { upstream } = plan.loadBalancer;
  if (upstream.kind !== "release")
    throw new Error(`stack ${plan.stack}: its load balancer does not switch between releases`);
  return { path: upstream.file, content: renderReleaseServers(release, releaseServers(plan, release)) };
}
