// The Docker target: an explicit provider for the stack's engine (./engine.ts: the configured
// host, else DOCKER_HOST or the current docker context; tcp:// with mutual TLS), and the stack
// on it.
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { DockerTlsKey } from "../config/rules-docker";
import type { DeploymentPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { DockerStack } from "./docker-stack";
import { type ResolvedEngine, cliEngine, resolveEngine } from "./engine";

export interface DockerTargetArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  generated: GeneratedValues;
  projectDir: string;
  /** The engine's TLS config secrets that are set (already pulumi.secret()). */
  engineTls: Partial<Record<DockerTlsKey, pulumi.Output<string>>>;
  /** Where DOCKER_HOST and the docker context are read. */
  env: NodeJS.ProcessEnv;
  parent?: pulumi.Resource;
}

export interface DockerTarget {
  stack: DockerStack;
  engine: ResolvedEngine;
  provider: docker.Provider;
}

export function deployDocker(args: DockerTargetArgs): DockerTarget {
  const { plan } = args;
  const engine = resolveEngine({
    stack: plan.stack,
    docker: plan.docker,
    tlsSecrets: args.engineTls,
    env: args.env,
  });
  const provider = new docker.Provider(
    `${plan.prefix}-engine`,
    {
      host: engine.host,
      ...(plan.docker.sshOpts.length > 0 ? { sshOpts: plan.docker.sshOpts } : {}),
      ...(engine.tls
        ? { caMaterial: engine.tls.ca, certMaterial: engine.tls.cert, keyMaterial: engine.tls.key }
        : {}),
    },
    args.parent ? { parent: args.parent } : {},
  );
  const stack = new DockerStack(
    `${plan.prefix}-docker`,
    {
      plan,
      secrets: args.secrets,
      generated: args.generated,
      projectDir: args.projectDir,
      engine: cliEngine(engine),
    },
    { providers: { docker: provider }, ...(args.parent ? { parent: args.parent } : {}) },
  );
  return { stack, engine, provider };
}

export { DockerStack };
