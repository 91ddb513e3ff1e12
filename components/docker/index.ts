// The Docker target: an explicit provider for the configured engine (local socket or
// ssh://user@host), and the stack on it.
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentPlan } from "../plan/types";
import type { GeneratedValues, SecretValues } from "../secrets/stack-secrets";
import { DockerStack } from "./docker-stack";

export interface DockerTargetArgs {
  plan: DeploymentPlan;
  secrets: SecretValues;
  generated: GeneratedValues;
  projectDir: string;
  parent?: pulumi.Resource;
}

export function deployDocker(args: DockerTargetArgs): DockerStack {
  const { plan } = args;
  const provider = new docker.Provider(
    `${plan.prefix}-engine`,
    { host: plan.docker.host, ...(plan.docker.sshOpts.length > 0 ? { sshOpts: plan.docker.sshOpts } : {}) },
    args.parent ? { parent: args.parent } : {},
  );
  return new DockerStack(
    `${plan.prefix}-docker`,
    { plan, secrets: args.secrets, generated: args.generated, projectDir: args.projectDir },
    { providers: { docker: provider }, ...(args.parent ? { parent: args.parent } : {}) },
  );
}

export { DockerStack };
