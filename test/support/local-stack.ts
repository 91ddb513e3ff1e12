// scripts/local (= npm run local) as the docker-tier tests run it: under a stack name and free
// ports of the test's own (never a developer's `local` stack), from Pulumi.local.yaml; `up` with
// --skip-setup (scripts/setup --for test prepared the machine) and --offline (no registry here).
import { join } from "node:path";
import { run } from "../../toolbox/exec";
import { stackContainers } from "../../scripts/lib/stack-health";
import { repoRoot } from "./paths";

export interface Ports {
  http: number;
  https: number;
}

/** What puts `scripts/local up` on Pulumi.local.yaml with these ports. */
export const stackFileArgs = (ports: Ports) => [
  "--stack-file",
  "local",
  "--set",
  `nginx.httpPort=${ports.http}`,
  "--set",
  `nginx.httpsPort=${ports.https}`,
];

/** `scripts/local <command> --stack <stack>`; never throws on its exit code. */
export function runLocal(
  stack: string,
  ports: Ports,
  command: "up" | "down",
  extra: string[] = [],
  env: Record<string, string> = {},
) {
  const upArgs = command === "up" ? ["--skip-setup", "--offline", ...stackFileArgs(ports)] : [];
  return run("bash", [join(repoRoot, "scripts", "local"), command, "--stack", stack, ...upArgs, ...extra], {
    reject: false,
    timeout: 900_000,
    env,
  });
}

/**
 * The running container of one of a stack's instances, by role (and number): the app's names
 * carry their release (chatapi-<stack>-api-<release>-1), so tests ask by role, not by name.
 */
export async function instanceContainer(stack: string, role: string, index?: number): Promise<string> {
  const found = (await stackContainers(stack)).find(
    (c) => c.role === role && c.status === "running" && (index === undefined || c.name.endsWith(`-${index}`)),
  );
  if (!found) throw new Error(`stack ${stack} has no running ${role}${index ? ` #${index}` : ""} container`);
  return found.name;
}
