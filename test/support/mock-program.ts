// Runs the Pulumi program (stacks/program.ts) under runtime mocks for one stack's config and
// returns every resource it registered. The unit tests assert on that graph; the engine tests
// compare it with what the real engine plans for the same config, so both come from one source.
import * as pulumi from "@pulumi/pulumi";
import { type ProgramResult, runProgram } from "../../stacks/program";
import { noDockerEnvironment, repoRoot } from "./paths";
import { type Captured, type MockState, valueOf } from "./pulumi-mocks";

export interface MockProgramInput {
  stack: string;
  /** Config as the engine hands it to the program: key → string (objects as JSON). */
  config: Record<string, string>;
  secretKeys: readonly string[];
}

export interface MockProgramRun {
  result: ProgramResult;
  /** The resources this run registered (named chatapi-<stack>-*), in registration order. */
  resources: Captured[];
}

/** Waits until no new registration arrived for a few event-loop turns (mocks answer at once). */
async function settled(mocks: MockState): Promise<void> {
  let seen = -1;
  let quiet = 0;
  while (quiet < 3) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    quiet = mocks.captured.length === seen ? quiet + 1 : 0;
    seen = mocks.captured.length;
  }
}

/** `mocks` from installMocks() (once per test file: the Pulumi runtime is process-wide). */
export async function runProgramUnderMocks(
  mocks: MockState,
  input: MockProgramInput,
): Promise<MockProgramRun> {
  const start = mocks.captured.length;
  const result = runProgram({
    stack: input.stack,
    config: input.config,
    secretKeys: input.secretKeys,
    projectDir: repoRoot,
    env: noDockerEnvironment,
  });
  const k = result.kubernetes;
  const d = result.docker;
  await valueOf(
    pulumi.all([
      result.outputs.adminClientId,
      ...(k
        ? [
            k.secretObjects.appSecretName,
            k.secretObjects.tlsSecretName,
            ...Object.values(k.components).map((c) => c!.urn),
          ]
        : []),
      ...(d ? [d.urn] : []),
    ]),
  );
  await settled(mocks);
  const prefix = `chatapi-${input.stack}-`;
  return { result, resources: mocks.captured.slice(start).filter((r) => r.name.startsWith(prefix)) };
}
