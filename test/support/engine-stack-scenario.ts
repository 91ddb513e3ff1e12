// The real Pulumi engine over the shipped engine stack (Pulumi.ci.yaml: Kubernetes target in
// render mode, every secret and the certificate set by scripts/engine-stack). One stack in a
// temp folder with a local file backend, shared by the steps below, which run in order:
//   1 preview plans exactly the mocks' resources  2 up renders schema-valid objects, state has
//   no secret  3 second preview: no changes  4 a config change: exactly the expected updates,
//   no data store replaced  5 the policy pack passes, and fails a weakened config exactly as the
//   offline runner does  6 destroy leaves an empty stack.
// One test file per CLI (each file gets its own process, so its own Pulumi runtime for the mocks):
// engine-stack.engine.test.ts with the default CLI (a user's own pulumi when new enough, else the
// pinned Go-built v3.171), engine-stack-newest.engine.test.ts with the newest CLI that builds here
// from Go modules. Node.js policy packs cannot start with the latter (it starts them through the
// language host's RunPlugin, which the only buildable host, v3.68, lacks): step 5 then checks that
// the pack is refused, loudly.
// Times of every command are printed at the end (benchmark numbers, never asserted).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { evaluate } from "../../policies/offline/evaluate";
import { buildStackGraph } from "../../policies/offline/stack-graph";
import type { PolicyViolation } from "../../scripts/lib/preview-comment/model";
import { parsePreview, urnParts } from "../../scripts/lib/preview-comment/parse";
import { remediationFor } from "../../scripts/lib/preview-comment/remediation";
import { renderComment } from "../../scripts/lib/preview-comment/render";
import { type KubernetesValidator, kubernetesValidator } from "./kubernetes-schemas";
import { runProgramUnderMocks } from "./mock-program";
import { repoRoot } from "./paths";
import {
  readFixture,
  reduceEventLog,
  reducePreviewJson,
  updateGolden,
  writeFixture,
} from "./preview-fixtures";
import { type Captured, installMocks, plain } from "./pulumi-mocks";
import { type CliChoice, EngineProject, type PulumiCli, resolvePulumiCli } from "./pulumi-engine";
import { leakedSecrets } from "./secret-search";

interface Step {
  op: string;
  urn: string;
  detailedDiff?: Record<string, { kind: string }> | null;
}
interface PreviewJson {
  steps: Step[];
  changeSummary: Record<string, number>;
}

const key = (type: string, name: string) => `${type}::${name}`;
const stepKey = (s: Step) => {
  const { type, name } = urnParts(s.urn);
  return key(type, name);
};
const sorted = (items: Iterable<string>) => [...items].sort();

/** Every YAML file the provider rendered, as objects. */
function renderedObjects(dir: string): Record<string, unknown>[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith(".yaml")) files.push(path);
    }
  };
  walk(dir);
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(f, "utf8"))
      .map((d) => d.toJS() as Record<string, unknown> | null)
      .filter((o): o is Record<string, unknown> => o !== null),
  );
}

/** Captured inputs with secrets unwrapped, as comparable text per resource. */
const inputsByKey = (resources: Captured[]) =>
  new Map(resources.map((r) => [key(r.type, r.name), JSON.stringify(plain(r.inputs))]));

// Hang guards, not speed targets: a preview with the policy pack takes a minute on a busy
// 2-core machine.
export function engineStackScenario(choice: CliChoice): void {
  const mocks = installMocks();
  describe(
    `the engine stack (Pulumi.ci.yaml) under the real Pulumi engine (${choice} CLI)`,
    { timeout: 600_000 },
    () => {
      let cli: PulumiCli;
      let engine: EngineProject;
      let config: Record<string, string>;
      let secretKeys: string[];
      let secrets: Record<string, string>;
      let validator: KubernetesValidator;

      beforeAll(async () => {
        cli = await resolvePulumiCli(choice);
        console.log(`pulumi ${cli.version} (${cli.source}: ${cli.command})`);
        engine = new EngineProject({ cli, stack: "ci" });
        await engine.init();
        ({ config, secretKeys } = await engine.config());
        secrets = Object.fromEntries(secretKeys.map((k) => [k, config[k]!]));
        validator = await kubernetesValidator();
      }, 600_000);

      afterAll(async () => {
        if (!engine) return;
        console.log(
          [
            `engine stack timings (seconds), pulumi ${cli.version}:`,
            ...engine.timings.map((t) => `  ${t.seconds.toFixed(1).padStart(6)}  ${t.label}`),
          ].join("\n"),
        );
        await engine.dispose();
      }, 120_000);

      it("has every generated secret and the certificate set as config secrets, so no random/tls plugin is needed", () => {
        expect(sorted(secretKeys)).toEqual(
          sorted([
            "chatapi:adminApiKey",
            "chatapi:postgresPassword",
            "chatapi:rabbitmqPassword",
            "chatapi:redisPassword",
            "chatapi:secretKey",
            "chatapi:tlsCertificate",
            "chatapi:tlsPrivateKey",
          ]),
        );
        // The stack file holds them only encrypted.
        expect(leakedSecrets(readFileSync(engine.stackFile, "utf8"), secrets)).toEqual([]);
      });

      it("1. preview --json plans exactly the resources (type + name) the mocks build from the same config", async () => {
        const { stdout } = await engine.pulumi("preview --json (first)", ["preview", "--json"]);
        const preview = JSON.parse(stdout) as PreviewJson;
        const planned = preview.steps.filter((s) => urnParts(s.urn).type !== "pulumi:pulumi:Stack");
        expect(new Set(planned.map((s) => s.op))).toEqual(new Set(["create"]));

        const mock = await runProgramUnderMocks(mocks, { stack: "ci", config, secretKeys });
        expect(sorted(planned.map(stepKey))).toEqual(sorted(mock.resources.map((r) => key(r.type, r.name))));
        // What the engine could not run here is absent on both sides.
        expect(planned.filter((s) => /::(random|tls|docker):/.test(s.urn))).toEqual([]);
        expect(planned.filter((s) => urnParts(s.urn).type.startsWith("kubernetes:")).length).toBeGreaterThan(
          30,
        );
        expect(leakedSecrets(stdout, secrets)).toEqual([]);
      });

      it("2. up renders every object valid against the strict Kubernetes schemas; the state holds no config secret", async () => {
        await engine.pulumi("up", ["up", "--yes", "--skip-preview"]);

        const exported = (await engine.pulumi("stack export", ["stack", "export"])).stdout;
        const state = JSON.parse(exported) as { deployment: { resources: { type: string }[] } };
        const k8sResources = state.deployment.resources.filter((r) => r.type.startsWith("kubernetes:"));

        const objects = renderedObjects(engine.renderDir);
        expect(objects).toHaveLength(k8sResources.length);
        for (const object of objects) {
          const meta = object.metadata as { name: string };
          expect(validator.validate(object), `${String(object.kind)} ${meta.name}`).toEqual([]);
        }
        expect(objects.filter((o) => !validator.strict(o)).map((o) => o.kind)).toEqual([]); // all built-in kinds

        expect(leakedSecrets(exported, secrets)).toEqual([]);
        const outputs = (await engine.pulumi("stack output", ["stack", "output", "--json"])).stdout;
        expect(JSON.parse(outputs)).toMatchObject({
          adminApiKey: "[secret]",
          adminClientId: expect.any(String),
        });
        expect(leakedSecrets(outputs, secrets)).toEqual([]);
        // The search is able to find them: the rendered Secret objects hold them (base64), as the
        // provider warns; that folder is never committed.
        const renderedSecrets = JSON.stringify(objects.filter((o) => o.kind === "Secret"));
        expect(leakedSecrets(renderedSecrets, { pg: secrets["chatapi:postgresPassword"]! })).toHaveLength(1);
      });

      it("3. a second preview shows no changes (the program is deterministic)", async () => {
        const { stdout } = await engine.pulumi("preview --json (no changes)", [
          "preview",
          "--json",
          "--expect-no-changes",
        ]);
        const preview = JSON.parse(stdout) as PreviewJson;
        expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
        expect(preview.steps.filter((s) => s.op !== "same")).toEqual([]);
      });

      it("4. a config change (worker replicas, app image tag) previews exactly the updates the mocks predict, no data store replaced", async () => {
        const before = await runProgramUnderMocks(mocks, { stack: "ci", config, secretKeys });
        await engine.setConfig("chatapi:worker.replicas", "3");
        await engine.setConfig("chatapi:images.app", "registry.example.com/chatapi:1.0.1");
        const changed = await engine.config();
        const after = await runProgramUnderMocks(mocks, { stack: "ci", ...changed });
        const { stdout } = await engine.pulumi("preview --json (config change)", ["preview", "--json"]);
        const preview = JSON.parse(stdout) as PreviewJson;

        // Expected: the resources whose inputs the same program computes differently.
        const old = inputsByKey(before.resources);
        const now = inputsByKey(after.resources);
        expect(sorted(now.keys())).toEqual(sorted(old.keys()));
        const expected = [...now.keys()].filter((k) => now.get(k) !== old.get(k));
        const changes = preview.steps.filter((s) => s.op !== "same");
        expect(sorted(changes.map(stepKey))).toEqual(sorted(expected));
        expect(new Set(changes.map((s) => s.op))).toEqual(new Set(["update", "replace"]));

        // Only the one-shot Jobs are replaced (a Job's pod template is immutable); data stores and
        // volumes at most update in place, never through their volume claims.
        const replaced = changes.filter((s) => s.op === "replace").map(stepKey);
        expect(replaced.every((k) => k.startsWith("kubernetes:batch/v1:Job::"))).toBe(true);
        for (const step of preview.steps) {
          const { type } = urnParts(step.urn);
          if (
            type !== "kubernetes:apps/v1:StatefulSet" &&
            type !== "kubernetes:core/v1:PersistentVolumeClaim"
          )
            continue;
          expect(["same", "update"], stepKey(step)).toContain(step.op);
          expect(
            Object.keys(step.detailedDiff ?? {}).filter((p) => p.includes("volumeClaimTemplates")),
          ).toEqual([]);
        }
        const diffOf = (name: string) =>
          Object.keys(changes.find((s) => urnParts(s.urn).name === name)?.detailedDiff ?? {}).sort();
        expect(diffOf("chatapi-ci-worker")).toEqual([
          "spec.replicas",
          "spec.template.spec.containers[0].image",
        ]);
        expect(diffOf("chatapi-ci-api")).toEqual(["spec.template.spec.containers[0].image"]);
        expect(leakedSecrets(stdout, secrets)).toEqual([]);

        // scripts/preview-comment reads this output exactly as it reads the committed golden file.
        const parsed = parsePreview({ stack: "ci", previewJson: stdout });
        if (updateGolden) {
          writeFixture("config-change.preview.json", reducePreviewJson(stdout, engine.dir));
          writeFixture("config-change.md", renderComment([parsed]));
        }
        expect(parsed).toEqual(
          parsePreview({ stack: "ci", previewJson: readFixture("config-change.preview.json") }),
        );
        expect(leakedSecrets(renderComment([parsed]), secrets)).toEqual([]);

        // Back to the shipped config for the steps after this one.
        await engine.pulumi("config rm", ["config", "rm", "chatapi:worker"]);
        const shippedImages = JSON.parse(config["chatapi:images"]!) as { app: string };
        await engine.setConfig("chatapi:images.app", shippedImages.app);
      });

      it("5. the policy pack passes the engine stack and fails a weakened config with exactly the expected mandatory violations, as the offline runner does (a CLI that cannot start it here refuses it)", async () => {
        const previewStack = join(repoRoot, "scripts", "preview-stack");
        if (!cli.policyPacks) {
          const out = join(engine.dir, "policy-refused");
          const run = await engine.run("preview --policy-pack (refused)", previewStack, [
            "ci",
            out,
            "--cwd",
            engine.projectDir,
          ]);
          expect(run.exitCode).not.toBe(0);
          expect(run.stdout + run.stderr).toMatch(/policy pack ".*policies" failed to start.*not supported/);
          return;
        }
        const read = (dir: string, file: string) => readFileSync(join(dir, file), "utf8");
        const previewWithPolicies = async (label: string, out: string) => {
          const run = await engine.run(label, previewStack, ["ci", out, "--cwd", engine.projectDir]);
          const parsed = parsePreview({
            stack: "ci",
            previewJson: read(out, "ci.json"),
            eventLog: read(out, "ci.events.jsonl"),
            exitCode: run.exitCode,
            remediationFor,
          });
          return { run, parsed };
        };
        /** The offline runner (npm run policy) over the same config, secrets included. */
        const offline = async (stackConfig: Record<string, string>) => {
          const graph = await buildStackGraph("ci", {
            projectDir: repoRoot,
            secrets: Object.fromEntries(secretKeys.map((k) => [k, stackConfig[k]!])),
            editConfig: (c) => {
              for (const k of Object.keys(c)) delete c[k];
              Object.assign(c, stackConfig);
            },
          });
          expect(graph.placeholders).toEqual([]);
          return evaluate(graph.subjects).violations.map(
            (v) => `${v.level} ${v.rule.name} ${v.subject?.name ?? "(stack)"}`,
          );
        };
        const found = (violations: PolicyViolation[]) =>
          violations.map((v) => `${v.enforcement} ${v.policy} ${v.resource?.name ?? "(stack)"}`).sort();
        const mandatory = (list: string[]) => list.filter((v) => v.startsWith("mandatory ")).sort();
        const packVersion = (
          JSON.parse(readFileSync(join(repoRoot, "policies", "package.json"), "utf8")) as { version: string }
        ).version;

        // The shipped engine stack: no mandatory violation, the same findings as offline.
        const shipped = await previewWithPolicies(
          "preview --policy-pack (engine stack)",
          join(engine.dir, "policy-pass"),
        );
        expect(shipped.run.exitCode, shipped.run.stdout + shipped.run.stderr).toBe(0);
        expect(shipped.parsed.policyPacks).toEqual([`chatapi-policies@${packVersion}`]);
        expect(mandatory(found(shipped.parsed.violations))).toEqual([]);
        expect(found(shipped.parsed.violations)).toEqual((await offline(config)).sort());

        // Weakened: one worker in production, 7-day backups, nginx on every node's port.
        const weakening: Record<string, string> = {
          "chatapi:worker.replicas": "1",
          "chatapi:backup.retentionDays": "7",
          "chatapi:kubernetes.serviceType": "NodePort",
        };
        for (const [k, v] of Object.entries(weakening)) await engine.setConfig(k, v);
        const weakenedConfig = (await engine.config()).config;
        const out = join(engine.dir, "policy-fail");
        const weakened = await previewWithPolicies("preview --policy-pack (weakened)", out);
        expect(weakened.run.exitCode).not.toBe(0);
        expect(weakened.parsed.outcome).toBe("failed");
        expect(mandatory(found(weakened.parsed.violations))).toEqual([
          "mandatory backup-hygiene chatapi-ci-backup",
          "mandatory no-nodeport-external-ips chatapi-ci-nginx-service",
          "mandatory production-min-replicas chatapi-ci-worker",
        ]);
        expect(mandatory(await offline(weakenedConfig))).toEqual(
          mandatory(found(weakened.parsed.violations)),
        );
        expect(weakened.parsed.violations.every((v) => v.remediation)).toBe(true);
        expect(leakedSecrets(read(out, "ci.events.jsonl") + read(out, "ci.json"), secrets)).toEqual([]);

        // scripts/preview-comment reads this output as it reads the committed golden files.
        const comment = renderComment([weakened.parsed]);
        expect(leakedSecrets(comment, secrets)).toEqual([]);
        if (updateGolden) {
          writeFixture("weakened.preview.json", reducePreviewJson(read(out, "ci.json"), engine.dir));
          writeFixture("weakened.events.jsonl", reduceEventLog(read(out, "ci.events.jsonl"), engine.dir));
          writeFixture("weakened.exit", `${weakened.run.exitCode}\n`);
          writeFixture("weakened.md", comment);
        }
        expect(weakened.parsed).toEqual(
          parsePreview({
            stack: "ci",
            previewJson: readFixture("weakened.preview.json"),
            eventLog: readFixture("weakened.events.jsonl"),
            exitCode: Number(readFixture("weakened.exit")),
            remediationFor,
          }),
        );

        for (const k of ["chatapi:worker", "chatapi:backup"])
          await engine.pulumi(`config rm ${k}`, ["config", "rm", k]);
        await engine.pulumi("config rm serviceType", [
          "config",
          "rm",
          "--path",
          "chatapi:kubernetes.serviceType",
        ]);
        expect((await engine.config()).config).toEqual(config);
      });

      it("6. destroy leaves an empty stack; of the rendered objects only those marked retainOnDelete stay", async () => {
        interface StateResource {
          type: string;
          retainOnDelete?: boolean;
          outputs?: { kind?: string; metadata?: { name?: string } };
        }
        const exportState = async (label: string) =>
          (
            JSON.parse((await engine.pulumi(label, ["stack", "export"])).stdout) as {
              deployment: { resources?: StateResource[] };
            }
          ).deployment.resources ?? [];
        // The backups volume claim is kept on purpose (README: the PVC outlives the stack).
        const retained = (await exportState("stack export (before destroy)"))
          .filter((r) => r.type.startsWith("kubernetes:") && r.retainOnDelete)
          .map((r) => `${r.outputs?.kind}/${r.outputs?.metadata?.name}`);
        expect(retained).toEqual(["PersistentVolumeClaim/chatapi-ci-backups"]);

        await engine.pulumi("destroy", ["destroy", "--yes", "--skip-preview"]);
        expect(await exportState("stack export (after destroy)")).toEqual([]);
        const left = renderedObjects(engine.renderDir).map(
          (o) => `${String(o.kind)}/${(o.metadata as { name: string }).name}`,
        );
        expect(left).toEqual(retained);
      });
    },
  );
}
