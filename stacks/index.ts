// Entry point of the Pulumi program (Pulumi.yaml: main: stacks/). Reads the stack's config
// from the engine and hands it to runProgram; everything else lives in ./program.ts.
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { runProgram } from "./program";

const projectDir = resolve(__dirname, "..");
const config = pulumi.runtime.allConfig();
// isConfigSecret is internal to the SDK; without it every key counts as a secret (the
// plain-text check of secret keys is then skipped, nothing else changes).
const isSecret = (runtimeConfig as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
const secretKeys = Object.keys(config).filter((key) => (isSecret ? isSecret(key) : true));

const { outputs } = runProgram({
  stack: pulumi.getStack(),
  config,
  secretKeys,
  projectDir,
  renderDir: resolve(projectDir, "rendered"),
});

export const target = outputs.target;
export const environment = outputs.environment;
export const httpsUrl = outputs.httpsUrl;
export const websocketUrl = outputs.websocketUrl;
export const healthUrl = outputs.healthUrl;
export const adminClientId = outputs.adminClientId;
export const adminApiKey = outputs.adminApiKey;
export const caCertificate = outputs.caCertificate;
export const backups = outputs.backups;
export const firewall = outputs.firewall;
