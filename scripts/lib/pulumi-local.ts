// The local stack through the toolkit's Pulumi program (engine "pulumi"): used when a pulumi
// CLI and the docker, random and tls provider plugins are installed. The backend is the one the
// user is logged in to (or PULUMI_BACKEND_URL), else a file backend in the stack's folder; the
// secrets passphrase is PULUMI_CONFIG_PASSPHRASE(_FILE), else one generated into that folder.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../toolbox/exec";

export interface PulumiLocalInput {
  bin: string;
  env: NodeJS.ProcessEnv;
  root: string;
  stack: string;
  /** The stack's folder (secrets/, ca.pem, and the file backend when there is no login). */
  dir: string;
  report: (line: string) => void;
}

async function environment(input: PulumiLocalInput): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...input.env };
  mkdirSync(join(input.dir, "secrets"), { recursive: true, mode: 0o700 });
  if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    const file = join(input.dir, "secrets", "pulumi-passphrase");
    if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString("hex"), { mode: 0o600 });
    env.PULUMI_CONFIG_PASSPHRASE_FILE = file;
  }
  if (!process.env.PULUMI_BACKEND_URL) {
    const whoami = await run(input.bin, ["whoami"], { env, reject: false, cwd: input.root });
    if (whoami.exitCode !== 0) {
      const state = join(input.dir, "pulumi-state");
      mkdirSync(state, { recursive: true, mode: 0o700 });
      env.PULUMI_BACKEND_URL = `file://${state}`;
    }
  }
  return env;
}

const pulumi = (input: PulumiLocalInput, env: NodeJS.ProcessEnv, args: string[], stream = false) =>
  run(input.bin, [...args, "--stack", input.stack, "--non-interactive"], {
    env,
    cwd: input.root,
    ...(stream ? { onLine: (line: string) => line.trim() && input.report(`  ${line}`) } : {}),
  });

export async function pulumiUp(
  input: PulumiLocalInput,
): Promise<{ caFile?: string; adminApiKeyFile: string }> {
  if (!existsSync(join(input.root, `Pulumi.${input.stack}.yaml`)))
    throw new Error(
      `engine pulumi needs Pulumi.${input.stack}.yaml (use --engine compose for a stack made with --stack-file/--set)`,
    );
  const env = await environment(input);
  await run(input.bin, ["stack", "select", "--create", input.stack, "--non-interactive"], {
    env,
    cwd: input.root,
  });
  input.report(`pulumi up --stack ${input.stack}`);
  await pulumi(input, env, ["up", "--yes", "--skip-preview"], true);
  const outputs = JSON.parse(
    (await pulumi(input, env, ["stack", "output", "--json", "--show-secrets"])).stdout,
  ) as {
    adminApiKey?: string;
    caCertificate?: string;
  };
  if (!outputs.adminApiKey) throw new Error("the stack has no adminApiKey output");
  const adminApiKeyFile = join(input.dir, "secrets", "admin_api_key");
  writeFileSync(adminApiKeyFile, outputs.adminApiKey, { mode: 0o600 });
  let caFile: string | undefined;
  if (outputs.caCertificate) {
    caFile = join(input.dir, "ca.pem");
    writeFileSync(caFile, outputs.caCertificate, { mode: 0o644 });
  }
  return { adminApiKeyFile, ...(caFile ? { caFile } : {}) };
}

/** Removes the stack's containers; its data volumes are kept (retainOnDelete). */
export async function pulumiDown(input: PulumiLocalInput): Promise<void> {
  const env = await environment(input);
  input.report(`pulumi destroy --stack ${input.stack}`);
  await pulumi(input, env, ["destroy", "--yes", "--skip-preview"], true);
}
