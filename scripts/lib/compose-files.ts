// Writes a Docker stack for docker-compose into one folder:
//
//   <dir>/docker-compose.yml      the rendered file (no secret values; safe to read)
//   <dir>/ca.pem                  the CA clients trust (self-signed stacks)
//   <dir>/secrets/<name>          every secret value (0600, root): generated ones are kept
//   <dir>/secrets/config/<key>    config secrets the operator supplies (tlsCertificate, ...)
//   <dir>/files/<role>/<path>     what each container mounts, owned by its uid (0400 / 0444); not
//                                 run as root: yours, readable by its uid through a POSIX ACL
//   <dir>/state.json              deploy-time values (the admin client id)
//
// Generated passwords are kept: the data volumes were initialised with them.
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes, randomInt, randomUUID } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import type { ComposeFile } from "../../components/compose/compose-file";
import { type ComposeRelease, composeRelease, withReleases } from "../../components/compose/compose-releases";
import { type RenderedCompose, renderCompose } from "../../components/compose/render-compose";
import { isReleaseWorkload, releaseId } from "../../components/containers/release";
import { containerSpecs } from "../../components/containers/container-spec";
import { missingConfigSecrets, resolveSecretValues } from "../../components/compose/secret-values";
import {
  type CertificateAuthority,
  caUsable,
  createCertificateAuthority,
  issueServerCertificate,
  serverCertificateUsable,
} from "../../components/compose/self-signed-tls";
import type { DeploymentPlan, GeneratedValueName, Role, SecretName } from "../../components/plan/types";
import { UNREADABLE_SECRET } from "../../components/config/issues";
import type { StackConfig } from "../../components/config/types";

export interface ComposeStackOptions {
  /** The app image as the engine knows it (its ID): part of the release id. */
  appImage: string;
  /** The reference the release's containers use (default: the plan's). */
  appImageRef?: string;
  /** Releases that keep running beside this one (the live one during a deploy). */
  alsoRunning?: ComposeRelease[];
}

export interface ComposeStackFiles {
  dir: string;
  /** The app's release as this config and image make it (../../components/containers/release.ts). */
  release: string;
  composeFile: string;
  projectName: string;
  /** The CA certificate clients trust (self-signed TLS only). */
  caFile?: string;
  adminApiKeyFile: string;
  rendered: RenderedCompose;
  /** Files that stay yours (not run as root): their container's uid reads them through an ACL. */
  unowned: { path: string; uid: number; gid: number }[];
  notes: string[];
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Letters and digits, at least two of each kind (as the Pulumi target's RandomPassword). */
export function generatePassword(length: number): string {
  for (;;) {
    const value = Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("");
    if (/[A-Z].*[A-Z]/.test(value) && /[a-z].*[a-z]/.test(value) && /[0-9].*[0-9]/.test(value)) return value;
  }
}

const readIf = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);

/**
 * Lets a container's user read a file that stays the developer's (no root to chown it): a named
 * user entry in the file's ACL (setfacl, after any chmod, which would reset the ACL's mask).
 */
function grantRead(path: string, uid: number): void {
  if (uid === process.getuid?.()) return;
  try {
    execFileSync("setfacl", ["-m", `u:${uid}:r`, path], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    throw new Error(
      e.code === "ENOENT"
        ? "setfacl is missing: as a normal user, the stack's mounted files stay yours and their containers' users read them through ACLs; install it (Debian/Ubuntu: sudo apt-get install acl)"
        : `setfacl -m u:${uid}:r ${path} failed: ${String(e.stderr ?? e.message).trim()} (does this filesystem support ACLs?)`,
    );
  }
}

/** Writes only when the content differs (a bind-mounted file keeps its inode otherwise). */
function writeIfChanged(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (readIf(path) !== content) writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}

function readExistingSecrets(dir: string): Partial<Record<SecretName, string>> {
  if (!existsSync(dir)) return {};
  const out: Partial<Record<SecretName, string>> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out[name as SecretName] = readFileSync(path, "utf8");
  }
  return out;
}

async function selfSignedTls(
  plan: DeploymentPlan,
  secretsDir: string,
  existing: Partial<Record<SecretName, string>>,
) {
  if (plan.tls.mode !== "self-signed") return undefined;
  const caKeyPath = join(secretsDir, "tls_ca_private_key");
  const caCertPath = join(secretsDir, "tls_ca_certificate");
  const kept = { certificate: readIf(caCertPath), privateKey: readIf(caKeyPath) };
  let ca: CertificateAuthority;
  if (kept.certificate && kept.privateKey && caUsable(kept as CertificateAuthority, plan.tls)) {
    ca = kept as CertificateAuthority;
  } else {
    ca = await createCertificateAuthority(plan.tls);
    writeIfChanged(caKeyPath, ca.privateKey, 0o600);
    writeIfChanged(caCertPath, ca.certificate, 0o600);
  }
  const chain = existing.tls_certificate;
  const key = existing.tls_private_key;
  const server =
    chain && key && serverCertificateUsable(chain, ca, plan.tls)
      ? { chain, privateKey: key }
      : await issueServerCertificate(plan.tls, ca);
  return { ca, server };
}

/**
 * Host folders bound into containers (chatapi:backup.hostPath): Docker would create a missing one
 * owned by root, which the non-root process cannot write. Created (or, while still empty, given)
 * with the container's owner; a folder with content is left alone (its health check says so).
 */
function prepareHostFolders(plan: DeploymentPlan, release: string, root: boolean, notes: string[]): void {
  for (const spec of containerSpecs(plan, release)) {
    const [uid, gid] = spec.user.split(":").map(Number) as [number, number];
    for (const volume of spec.volumes) {
      if (!volume.hostPath || volume.readOnly) continue;
      const path = volume.hostPath;
      const empty = !existsSync(path) || readdirSync(path).length === 0;
      const owned = existsSync(path) && statSync(path).uid === uid;
      if (!root) {
        if (!owned)
          notes.push(
            `${path} (bound into ${spec.name}) must be writable by ${uid}:${gid}: as root, run\n  mkdir -p ${path} && chown ${uid}:${gid} ${path} && chmod 0750 ${path}`,
          );
        continue;
      }
      if (!existsSync(path)) mkdirSync(path, { recursive: true, mode: 0o750 });
      if (empty && !owned) chownSync(path, uid, gid);
    }
  }
}

function readState(path: string): Partial<Record<GeneratedValueName, string>> {
  const text = readIf(path);
  return text ? (JSON.parse(text) as Partial<Record<GeneratedValueName, string>>) : {};
}

/** The compose file as docker-compose (PyYAML, YAML 1.1) reads it, with a header saying what it is. */
export function writeComposeFile(path: string, projectName: string, compose: ComposeFile): void {
  const header = [
    `# ChatAPI stack "${compose["x-chatapi"].stack}", rendered from its deployment plan by the chatapi toolkit.`,
    `# Project ${projectName}. Run it with scripts/local up (it starts the app's releases and switches nginx to them: docs/DEPLOYS.md).`,
    "# Secret values are not in this file: it names the files beside it (secrets/, files/).",
  ].join("\n");
  // YAML 1.1: strings such as "no" stay quoted.
  writeIfChanged(path, `${header}\n${stringify(compose, { lineWidth: 0, version: "1.1" })}`, 0o644);
}

export async function writeComposeStack(
  plan: DeploymentPlan,
  config: StackConfig,
  dir: string,
  options: ComposeStackOptions,
): Promise<ComposeStackFiles> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secretsDir = join(dir, "secrets");
  mkdirSync(join(secretsDir, "config"), { recursive: true, mode: 0o700 });
  chmodSync(secretsDir, 0o700);

  const unreadable = Object.entries(config.secrets)
    .filter(([, value]) => value === UNREADABLE_SECRET)
    .map(([key]) => key);
  const given = Object.fromEntries(
    Object.entries(config.secrets).filter(([, value]) => value !== UNREADABLE_SECRET),
  );
  const missing = [...missingConfigSecrets(plan, given), ...unreadable.map((k) => `chatapi:${k}`)];
  if (missing.length > 0) {
    throw new Error(
      `the stack needs config secrets that were not given: ${[...new Set(missing)].join(", ")}.\n` +
        `Put each value in ${join(secretsDir, "config")}/<key> (e.g. tlsCertificate), or pass --secret-file <key>=<path>.`,
    );
  }

  const existing = readExistingSecrets(secretsDir);
  const tls = await selfSignedTls(plan, secretsDir, existing);
  const values = resolveSecretValues(plan, {
    existing,
    config: given,
    password: generatePassword,
    ...(tls ? { selfSigned: tls.server } : {}),
  });
  for (const [name, value] of Object.entries(values)) writeIfChanged(join(secretsDir, name), value, 0o600);

  const statePath = join(dir, "state.json");
  const state = readState(statePath);
  const generated: Record<GeneratedValueName, string> = { admin_client_id: "" };
  for (const item of plan.generated) {
    generated[item.name] =
      item.source.kind === "fixed" ? item.source.value : (state[item.name] ?? randomUUID());
  }
  writeIfChanged(statePath, `${JSON.stringify(generated, null, 2)}\n`, 0o600);

  // A keyed digest of each workload's files: a changed file changes its containers' label
  // (and so re-creates them) without revealing anything about the values.
  const digestKeyPath = join(secretsDir, ".files-digest-key");
  if (!existsSync(digestKeyPath))
    writeFileSync(digestKeyPath, randomBytes(32).toString("hex"), { mode: 0o600 });
  const digestKey = readFileSync(digestKeyPath, "utf8");
  const contentOf = (source: { secret: SecretName } | { content: string }) =>
    "secret" in source ? values[source.secret] : source.content;
  const filesVersion: Partial<Record<Role, string>> = {};
  for (const workload of plan.workloads) {
    const hmac = createHmac("sha256", digestKey);
    // Files the process re-reads by itself (Prometheus's targets) change without a re-create.
    const versioned = workload.files.filter((file) => !file.reread);
    for (const file of versioned) hmac.update(`${file.path}\0${contentOf(file.source)}\0`);
    if (versioned.length > 0) filesVersion[workload.role] = hmac.digest("hex").slice(0, 16);
  }

  // Files the release's containers mount are part of what makes it a release (a rotated
  // secret gives a new one); the keyed digests reveal nothing about the values.
  const release = releaseId(plan, {
    image: options.appImage,
    files: plan.workloads
      .filter(isReleaseWorkload)
      .map((w) => filesVersion[w.role] ?? "")
      .join(","),
  });
  const rendered = renderCompose({
    plan,
    release,
    generated,
    filesVersion,
    ...(options.appImageRef ? { images: { app: options.appImageRef } } : {}),
  });
  const root = process.getuid?.() === 0;
  const unowned: ComposeStackFiles["unowned"] = [];
  const unownedFolders: string[] = [];
  for (const file of rendered.files) {
    const path = join(dir, file.hostPath);
    writeIfChanged(path, contentOf(file.source), file.mode);
    if (root) chownSync(path, file.uid, file.gid);
    else {
      grantRead(path, file.uid);
      unowned.push({ path, uid: file.uid, gid: file.gid });
    }
  }

  prepareHostFolders(plan, release, root, unownedFolders);

  const composeFile = join(dir, "docker-compose.yml");
  writeComposeFile(
    composeFile,
    rendered.projectName,
    options.alsoRunning?.length
      ? withReleases(rendered.compose, [...options.alsoRunning, composeRelease(rendered.compose, release)])
      : rendered.compose,
  );

  let caFile: string | undefined;
  if (tls) {
    caFile = join(dir, "ca.pem");
    writeIfChanged(caFile, tls.ca.certificate, 0o644);
  }
  const notes = [
    ...unownedFolders,
    ...(unowned.length
      ? [
          `not running as root: the mounted files stay yours; each container's user reads its files through an ACL (getfacl ${join(dir, "files")}/<role>/...)`,
        ]
      : []),
  ];
  return {
    dir,
    release,
    composeFile,
    projectName: rendered.projectName,
    ...(caFile ? { caFile } : {}),
    adminApiKeyFile: join(secretsDir, "admin_api_key"),
    rendered,
    unowned,
    notes,
  };
}
