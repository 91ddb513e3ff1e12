// Entry point of the Pulumi program (Pulumi.yaml: main: stacks/). Reads the stack's config
// from the engine and hands it to runProgram; everything else lives in ./program.ts.
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError } from "../components/config/issues";
import { TargetUnavailableError, runProgram } from "./program";

const projectDir = resolve(__dirname, "..");
const config = pulumi.runtime.allConfig();
// isConfigSecret is internal to the SDK; without it every key counts as a secret (the
// plain-text check of secret keys is then skipped, nothing else changes).
const isSecret = (runtimeConfig as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
const secretKeys = Object.keys(config).filter((key) => (isSecret ? isSecret(key) : true));

function program() {
  try {
    return runProgram({
      stack: pulumi.getStack(),
      config,
      secretKeys,
      projectDir,
      renderDir: resolve(projectDir, "rendered"),
    });
  } catch (error) {
    // A message a person can act on, without a stack trace (RunError prints only the message).
    if (error instanceof ConfigError || error instanceof TargetUnavailableError)
      throw new pulumi.RunError(error.message);
    throw error;
  }
}

const { outputs } = program();

// Only the outputs this stack has (caCertificate: self-signed TLS; firewall: a Docker host): an
// export whose value is undefined makes the engine warn on every update.
export = Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined));
