// The real helm (built from Go modules by scripts/pulumi-toolchain into the tool cache, version
// pinned in scripts/toolchain-versions) for the *.helm.test.ts files. A missing helm fails the
// test that needs it, saying how to build it; nothing is skipped.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import type { Manifest } from "../../components/helm/parity";
import { KUBERNETES_SCHEMA_VERSION } from "./kubernetes-schemas";
import { cacheDir, repoRoot } from "./paths";

const run = promisify(execFile);

export const CHART = join(repoRoot, "charts", "chatapi");

export function helmVersion(): string {
  const pinned = /^HELM_VERSION=(\S+)$/m.exec(
    readFileSync(join(repoRoot, "scripts", "toolchain-versions"), "utf8"),
  );
  if (!pinned) throw new Error("scripts/toolchain-versions pins no HELM_VERSION");
  return pinned[1]!;
}

export function helmBinary(): string {
  const path = join(cacheDir, `helm-${helmVersion()}`, "bin", "helm");
  if (!existsSync(path))
    throw new Error(
      `helm ${helmVersion()} is missing (${path}): build it with scripts/pulumi-toolchain build --only helm (scripts/setup --for test does)`,
    );
  return path;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs helm; resolves with its exit code and output (a non-zero exit is a result, not an
 * error). `helm template` and `helm lint` render for the Kubernetes version the schema tests
 * use, whatever version this helm build assumes without a cluster.
 */
export async function helm(args: string[]): Promise<HelmResult> {
  const forVersion = ["template", "lint"].includes(args[0] ?? "")
    ? ["--kube-version", KUBERNETES_SCHEMA_VERSION]
    : [];
  try {
    const { stdout, stderr } = await run(helmBinary(), [...args, ...forVersion], {
      maxBuffer: 64 * 1024 * 1024,
      // No cluster, no user config: helm works from the chart alone.
      env: { ...process.env, KUBECONFIG: "/dev/null", HELM_CACHE_HOME: tmpdir(), HELM_CONFIG_HOME: tmpdir() },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Runs helm with a values object written to a private temporary file (-f). */
export async function helmWithValues(args: string[], values: unknown): Promise<HelmResult> {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-helm-values-"));
  try {
    const file = join(dir, "values.yaml");
    writeFileSync(file, stringify(values));
    return await helm([...args, "-f", file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseManifests(yaml: string): Manifest[] {
  return parseAllDocuments(yaml)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

/** `helm template` of the chart: the objects, or an error with helm's message. */
export async function helmTemplate(
  release: string,
  namespace: string,
  values: unknown = {},
  extraArgs: string[] = [],
): Promise<Manifest[]> {
  const result = await helmWithValues(
    ["template", release, CHART, "--namespace", namespace, ...extraArgs],
    values,
  );
  if (result.code !== 0) throw new Error(`helm template failed (exit ${result.code}):\n${result.stderr}`);
  return parseManifests(result.stdout);
}
