// A stack's resource graph without the Pulumi CLI: Pulumi.<stack>.yaml read from disk, the
// stack program run under Pulumi runtime mocks (test/support/pulumi-mocks.ts), every
// registered resource captured with its inputs (secret wrappers removed, as CrossGuard sees
// them).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { ConfigError } from "../../components/config/issues";
import { readAppVersion, readStackFile } from "../../components/config/stack-file";
import { TargetUnavailableError, runProgram } from "../../stacks/program";
import { installMocks, plain } from "../../test/support/pulumi-mocks";
import type { Subject } from "../core/types";
import { fillSecretPlaceholders } from "./placeholders";

export interface StackGraph {
  stack: string;
  target: string;
  subjects: Subject[];
  /** Secret keys given offline stand-ins (encrypted in the file, or set outside it). */
  placeholders: string[];
}

/** Names of the stacks shipped in a project (Pulumi.<name>.yaml). */
export function stackNames(projectDir: string): string[] {
  return readdirSync(projectDir)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/** The stack cannot be built here: no such stack file, or its program failed. */
export class StackBuildError extends Error {
  override name = "StackBuildError";
}

/** The stack's target has no components in this build (the program says so). */
export class StackUnavailableError extends StackBuildError {
  override name = "StackUnavailableError";
  constructor(
    readonly stackName: string,
    readonly target: string,
    message: string,
  ) {
    super(message);
  }
}

/** Waits until every resource registration and RPC the program started has finished. */
async function settled(): Promise<void> {
  const waitForRPCs = (settings as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (!waitForRPCs) throw new Error("@pulumi/pulumi no longer exports runtime/settings.waitForRPCs");
  await waitForRPCs();
}

export interface StackGraphOptions {
  projectDir: string;
  /** Real secret values (`chatapi:<key>` → value) instead of stand-ins. */
  secrets?: Record<string, string>;
  /** Edits the config before the program runs (tests weaken stacks this way). */
  editConfig?: (config: Record<string, string>) => void;
}

export async function buildStackGraph(stack: string, options: StackGraphOptions): Promise<StackGraph> {
  if (!existsSync(join(options.projectDir, `Pulumi.${stack}.yaml`)))
    throw new StackBuildError(
      `no stack file Pulumi.${stack}.yaml in ${options.projectDir} (stacks: ${stackNames(options.projectDir).join(", ")})`,
    );
  const file = readStackFile(options.projectDir, stack, options.secrets);
  const source = {
    stack,
    config: file.config,
    secretKeys: file.secretKeys,
    appVersion: readAppVersion(options.projectDir),
  };
  options.editConfig?.(source.config);
  const placeholders = fillSecretPlaceholders(source, file.encryptedKeys);
  const mocks = installMocks();
  const target = source.config["chatapi:target"] ?? "?";
  try {
    runProgram({
      stack,
      config: source.config,
      secretKeys: source.secretKeys,
      projectDir: options.projectDir,
    });
  } catch (error) {
    if (error instanceof TargetUnavailableError)
      throw new StackUnavailableError(stack, target, error.message);
    if (error instanceof ConfigError) throw error;
    throw new StackBuildError(
      `stack "${stack}": the program failed under mocks: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  await settled();
  const subjects = mocks.captured.map((r) => ({
    type: r.type,
    name: r.name,
    props: plain(r.inputs) as Record<string, unknown>,
  }));
  return { stack, target, subjects, placeholders };
}
