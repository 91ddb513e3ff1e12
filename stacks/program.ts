// The Pulumi program as a function: config → validated settings → plan → target, returning
// the stack outputs. stacks/index.ts calls it with the engine's config; tests call it under
// runtime mocks with a stack file's config.
import { mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { type DockerStack, deployDocker } from "../components/docker";
import { renderFirewall } from "../components/firewall/render-firewall";
import { type KubernetesStack, deployKubernetes } from "../components/kubernetes";
import { buildPlan } from "../components/plan/build-plan";
import type { DeploymentPlan } from "../components/plan/types";
import { StackSecrets } from "../components/secrets/stack-secrets";
import { loadStackConfig } from "../components/config/load";
import { readAppVersion } from "../components/config/stack-file";
import type { SecretConfigKey } from "../components/config/types";
import type { ResolvedEngine } from "../components/docker/engine";

/** The configured target cannot deploy yet. */
export class TargetUnavailableError extends Error {
  override name = "TargetUnavailableError";
}

export interface ProgramInput {
  stack: string;
  config: Record<string, string>;
  secretKeys: readonly string[];
  projectDir: string;
  /** Folder for rendered files (the Docker host's firewall rules); nothing is written when unset. */
  renderDir?: string;
  /** Where the Docker target reads DOCKER_HOST and the docker context (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface StackOutputs {
  target: string;
  environment: string;
  httpsUrl: string;
  websocketUrl: string;
  healthUrl: string;
  adminClientId: pulumi.Output<string>;
  adminApiKey: pulumi.Output<string>;
  caCertificate?: pulumi.Output<string>;
  backups: { enabled: boolean; schedule: string; retentionDays: number; location: string; s3?: string };
  /**
   * The Docker host's firewall (a cluster has NetworkPolicies instead): applied by the stack's
   * firewall container when enabled; the rules and script are also written to `files`.
   */
  firewall?: {
    enabled: boolean;
    externalInterface: string;
    rulesIpv4: string;
    rulesIpv6: string;
    files: string[];
  };
}

function backupLocation(plan: DeploymentPlan, engine: ResolvedEngine | undefined): string {
  const volume = plan.volumes.find((v) => v.name === plan.backup.volume);
  if (plan.target === "kubernetes")
    return `PVC ${volume?.resourceName ?? plan.backup.volume} in namespace ${plan.kubernetes.namespace}`;
  if (volume?.hostPath) return `${volume.hostPath} on the Docker host (${engine?.host})`;
  return `Docker volume ${volume?.resourceName ?? plan.backup.volume} on ${engine?.host}, mounted at ${plan.backup.directory} in ${plan.prefix}-backup`;
}

function writeFirewall(dir: string, rendered: ReturnType<typeof renderFirewall>): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    "rules.v4": rendered.rulesIpv4,
    "rules.v6": rendered.rulesIpv6,
    "firewall.sh": rendered.script,
  };
  return Object.entries(files).map(([name, content]) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o644 });
    return path;
  });
}

/**
 * Config paths (kubeconfig, render folder) are relative to the project root, where Pulumi.yaml
 * is; the engine starts the provider in the program's folder (stacks/). So they are passed on
 * relative to the working directory: still relative (the state stays the same from any
 * checkout), but pointing where the user meant.
 */
function withProjectRelativePaths(plan: DeploymentPlan, projectDir: string): DeploymentPlan {
  if (plan.target !== "kubernetes") return plan;
  const fromCwd = (path: string) =>
    isAbsolute(path) || path.startsWith("~")
      ? path
      : relative(process.cwd(), resolve(projectDir, path)) || ".";
  const { kubeconfig, renderYamlToDirectory } = plan.kubernetes.provider;
  const provider = {
    ...plan.kubernetes.provider,
    ...(kubeconfig ? { kubeconfig: fromCwd(kubeconfig) } : {}),
    ...(renderYamlToDirectory ? { renderYamlToDirectory: fromCwd(renderYamlToDirectory) } : {}),
  };
  return { ...plan, kubernetes: { ...plan.kubernetes, provider } };
}

export interface ProgramResult {
  outputs: StackOutputs;
  plan: DeploymentPlan;
  secrets: StackSecrets;
  docker?: DockerStack;
  /** The Docker target's engine (./components/docker/engine.ts). */
  engine?: ResolvedEngine;
  kubernetes?: KubernetesStack;
}

export function runProgram(input: ProgramInput): ProgramResult {
  const appVersion = readAppVersion(input.projectDir);
  const config = loadStackConfig({ ...input, appVersion });
  const plan = withProjectRelativePaths(buildPlan({ config, appVersion }), input.projectDir);
  const configSecrets: Partial<Record<SecretConfigKey, pulumi.Output<string>>> = {};
  for (const [key, value] of Object.entries(config.secrets) as [SecretConfigKey, string][]) {
    configSecrets[key] = pulumi.secret(value);
  }
  const secrets = new StackSecrets(`${plan.prefix}-secrets`, { plan, config: configSecrets });

  let docker: DockerStack | undefined;
  let engine: ResolvedEngine | undefined;
  let kubernetes: KubernetesStack | undefined;
  if (plan.target === "docker") {
    ({ stack: docker, engine } = deployDocker({
      plan,
      secrets: secrets.values,
      generated: secrets.generated,
      projectDir: input.projectDir,
      engineTls: configSecrets,
      env: input.env ?? process.env,
    }));
  } else {
    kubernetes = deployKubernetes({ plan, secrets: secrets.values, generated: secrets.generated });
  }

  // Host firewall rules are for a Docker host; a cluster stack writes no files.
  const firewall = plan.target === "docker" ? renderFirewall(plan.firewall) : undefined;
  const files =
    firewall && input.renderDir ? writeFirewall(join(input.renderDir, plan.stack, "firewall"), firewall) : [];
  const adminApiKey = secrets.values.admin_api_key;
  if (!adminApiKey) throw new Error("the plan has no admin_api_key secret");
  const s3 = plan.backup.s3;
  const outputs: StackOutputs = {
    target: plan.target,
    environment: plan.environment,
    httpsUrl: plan.urls.https,
    websocketUrl: plan.urls.websocket,
    healthUrl: plan.urls.health,
    adminClientId: secrets.generated.admin_client_id,
    adminApiKey: pulumi.secret(adminApiKey),
    ...(secrets.caCertificate ? { caCertificate: secrets.caCertificate } : {}),
    backups: {
      enabled: plan.backup.enabled,
      schedule: plan.backup.schedule,
      retentionDays: plan.backup.retentionDays,
      location: backupLocation(plan, engine),
      ...(s3 ? { s3: `s3://${s3.bucket}/${s3.prefix ?? ""}` } : {}),
    },
    ...(firewall
      ? {
          firewall: {
            enabled: plan.firewall.enabled,
            externalInterface: plan.firewall.externalInterface,
            rulesIpv4: firewall.rulesIpv4,
            rulesIpv6: firewall.rulesIpv6,
            files,
          },
        }
      : {}),
  };
  return {
    outputs,
    plan,
    secrets,
    ...(docker ? { docker } : {}),
    ...(engine ? { engine } : {}),
    ...(kubernetes ? { kubernetes } : {}),
  };
}
