// scripts/preview-comment on real engine output (golden files captured by
// test/engine-stack.engine.test.ts) and on small hand-made inputs for the masking rules.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../test/support/paths";
import { fixtureDir } from "../../../test/support/preview-fixtures";
import { main, parseArgs } from "./cli";
import { parsePreview } from "./parse";
import { remediationFor } from "./remediation";
import { parsePropertyPath } from "./property-path";
import { COMMENT_MARKER, changeSummary, renderComment } from "./render";
// A value planted where a secret would be; built at run time so no credential literal sits in git.
const PLANTED = ["hunter22", "visible"].join("-");

const fixture = (name: string) => readFileSync(join(fixtureDir, name), "utf8");

describe("golden: a config change previewed by the real engine (worker replicas 2 → 3, image 1.0.0 → 1.0.1)", () => {
  const parsed = parsePreview({ stack: "ci", previewJson: fixture("config-change.preview.json") });

  it("re-renders the committed comment exactly", () => {
    expect(renderComment([parsed])).toBe(fixture("config-change.md"));
  });

  it("reads the operations, the changed properties and their old and new values", () => {
    expect(parsed.counts).toEqual({ replace: 2, same: 46, update: 4 });
    expect(parsed.outcome).toBe("succeeded");
    const worker = parsed.changes.find((c) => c.name === "chatapi-ci-worker")!;
    expect(worker).toMatchObject({ operation: "update", type: "kubernetes:apps/v1:Deployment" });
    expect(worker.properties).toEqual([
      { path: "spec.replicas", kind: "update", replaces: false, before: "2", after: "3" },
      {
        path: "spec.template.spec.containers[0].image",
        kind: "update",
        replaces: false,
        before: "registry.example.com/chatapi:1.0.0",
        after: "registry.example.com/chatapi:1.0.1",
      },
    ]);
    const jobs = parsed.changes.filter((c) => c.operation === "replace");
    expect(jobs.map((j) => j.name).sort()).toEqual(["chatapi-ci-bootstrap-admin", "chatapi-ci-migrate"]);
    expect(jobs.every((j) => j.properties.every((p) => p.replaces))).toBe(true);
  });

  it("is the sample the README shows", () => {
    expect(readFileSync(join(repoRoot, "README.md"), "utf8")).toContain(fixture("config-change.md"));
  });

  it("is what the CLI prints", () => {
    const out = execFileSync(
      join(repoRoot, "scripts", "preview-comment"),
      ["--stack", "ci", "--preview", join(fixtureDir, "config-change.preview.json")],
      { encoding: "utf8" },
    );
    expect(out).toBe(fixture("config-change.md"));
  }, 60_000);
});

describe("golden: a weakened config previewed by the real engine with the policy pack", () => {
  const sources = {
    stack: "ci",
    previewJson: fixture("weakened.preview.json"),
    eventLog: fixture("weakened.events.jsonl"),
    exitCode: Number(fixture("weakened.exit")),
    remediationFor,
  };
  const parsed = parsePreview(sources);

  it("re-renders the committed comment exactly", () => {
    expect(renderComment([parsed])).toBe(fixture("weakened.md"));
  });

  it("is the second sample the README shows", () => {
    expect(readFileSync(join(repoRoot, "README.md"), "utf8")).toContain(fixture("weakened.md"));
  });

  it("reports the failed preview, the mandatory violations with the rule's remediation, no leftover error", () => {
    expect(parsed.outcome).toBe("failed");
    expect(sources.exitCode).not.toBe(0);
    const mandatory = parsed.violations.filter((v) => v.enforcement === "mandatory");
    expect(mandatory.map((v) => `${v.policy} ${v.resource?.name}`).sort()).toEqual([
      "backup-hygiene chatapi-ci-backup",
      "no-nodeport-external-ips chatapi-ci-nginx-service",
      "production-min-replicas chatapi-ci-worker",
    ]);
    expect(mandatory.every((v) => v.remediation && v.remediation === remediationFor(v.policy))).toBe(true);
    expect(parsed.errors).toEqual([]);
    expect(parsed.policyPacks).toEqual([expect.stringMatching(/^chatapi-policies@\d+\.\d+\.\d+$/)]);
  });

  it("reads the same changes from the event log alone as from the --json output", () => {
    const fromEvents = parsePreview({ ...sources, previewJson: undefined });
    expect(fromEvents.changes).toEqual(parsed.changes);
    expect(fromEvents.counts).toEqual(parsed.counts);
  });

  it("holds no debug diagnostics and no readable Secret data (what scripts/preview-stack keeps)", () => {
    const events = fixture("weakened.events.jsonl")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, { severity?: string }>);
    expect(events.filter((e) => e.diagnosticEvent?.severity === "debug")).toEqual([]);
    expect(fixture("weakened.events.jsonl")).not.toMatch(/"data":\{"(?!4dabf18193072939515e22adb298388d)/);
  });
});

describe("masking and parsing rules", () => {
  const urn = (type: string, name: string) =>
    `urn:pulumi:ci::chatapi::chatapi:kubernetes:Stack$${type}::${name}`;
  const SIG = {
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    ciphertext: "[secret]",
  };

  it("never shows a Secret's data, a secret-wrapped value or an additionalSecretOutputs property", () => {
    const previewJson = JSON.stringify({
      steps: [
        {
          op: "update",
          urn: urn("kubernetes:core/v1:Secret", "app"),
          oldState: { inputs: { data: { key: "b2xkLXZhbHVl" }, metadata: { labels: { a: "1" } } } },
          newState: { inputs: { data: { key: "bmV3LXZhbHVl" }, metadata: { labels: { a: "2" } } } },
          detailedDiff: { "data.key": { kind: "update" }, "metadata.labels.a": { kind: "update" } },
        },
        {
          op: "update",
          urn: urn("kubernetes:apps/v1:Deployment", "api"),
          oldState: { inputs: { token: SIG, nested: { x: "plain-old" } } },
          newState: {
            inputs: { token: "[secret]", nested: { x: SIG }, password: PLANTED },
            additionalSecretOutputs: ["password"],
          },
          detailedDiff: {
            token: { kind: "update" },
            "nested.x": { kind: "update" },
            password: { kind: "add" },
          },
        },
      ],
      changeSummary: { update: 2 },
    });
    const markdown = renderComment([parsePreview({ stack: "ci", previewJson })]);
    for (const hidden of ["b2xkLXZhbHVl", "bmV3LXZhbHVl", PLANTED, "1b47061264138c4ac30d75fd1eb44270"])
      expect(markdown).not.toContain(hidden);
    expect(markdown).toContain("`data.key`: `[secret]` → `[secret]`");
    expect(markdown).toContain("`metadata.labels.a`: `1` → `2`");
    expect(markdown).toContain("`nested.x`: `plain-old` → `[secret]`");
    expect(markdown).toContain("`password` (add): `[secret]`");
  });

  it("takes resources from the event log when the JSON has none, folding replacement steps into one", () => {
    const events = [
      {
        resourcePreEvent: {
          metadata: { op: "same", urn: urn("kubernetes:core/v1:Service", "svc"), type: "x" },
        },
      },
      ...["replace", "create-replacement", "delete-replaced"].map((op) => ({
        resourcePreEvent: {
          metadata: {
            op,
            urn: urn("kubernetes:batch/v1:Job", "migrate"),
            type: "kubernetes:batch/v1:Job",
            old: { inputs: { image: "a:1" } },
            new: { inputs: { image: "a:2" } },
            detailedDiff: { image: { diffKind: "update-replace" } },
          },
        },
      })),
    ];
    const p = parsePreview({ stack: "ci", eventLog: events.map((e) => JSON.stringify(e)).join("\n") });
    expect(p.counts).toEqual({ same: 1, replace: 1 });
    expect(p.changes).toEqual([
      {
        operation: "replace",
        type: "kubernetes:batch/v1:Job",
        name: "migrate",
        properties: [{ path: "image", kind: "update", replaces: true, before: "a:1", after: "a:2" }],
      },
    ]);
  });

  it("reads policy events: description, violation, enforcement; a mandatory one fails the stack", () => {
    const eventLog = [
      {
        policyEvent: {
          resourceUrn: urn("kubernetes:apps/v1:Deployment", "api"),
          message: 'Images are pinned.\nimage "app" is not pinned',
          policyName: "image-tag-pinned",
          policyPackName: "chatapi",
          enforcementLevel: "mandatory",
        },
      },
      {
        summaryEvent: {
          resourceChanges: { same: 3 },
          PolicyPacks: { "chatapi|local|/src/policies": "0.1.0" },
        },
      },
    ]
      .map((e) => JSON.stringify(e))
      .join("\n");
    const p = parsePreview({ stack: "ci", eventLog, remediationFor: () => "Pin it." });
    expect(p.outcome).toBe("failed");
    expect(p.policyPacks).toEqual(["chatapi@0.1.0"]);
    expect(p.violations).toEqual([
      {
        enforcement: "mandatory",
        policyPack: "chatapi",
        policy: "image-tag-pinned",
        resource: { type: "kubernetes:apps/v1:Deployment", name: "api" },
        description: "Images are pinned.",
        violation: 'image "app" is not pinned',
        remediation: "Pin it.",
      },
    ]);
    const markdown = renderComment([p]);
    expect(markdown.startsWith(COMMENT_MARKER)).toBe(true);
    expect(markdown).toContain("- ❌ **ci**: no changes (3 unchanged); 1 mandatory policy violation");
    expect(markdown).toContain(
      "| mandatory | `image-tag-pinned` | `api`<br>`kubernetes:apps/v1:Deployment` |",
    );
    expect(markdown).toContain("| Pin it. |");
  });

  it("escapes table cells and long or multi-line values", () => {
    expect(changeSummary({ same: 2, delete: 1, create: 3 })).toBe("3 to create, 1 to delete, 2 unchanged");
    const previewJson = JSON.stringify({
      steps: [
        {
          op: "update",
          urn: urn("kubernetes:core/v1:ConfigMap", "cfg"),
          oldState: { inputs: { data: { conf: "a\nb\nc" }, note: "x|y" } },
          newState: { inputs: { data: { conf: "a\nb" }, note: "`z`" } },
          detailedDiff: { "data.conf": { kind: "update" }, note: { kind: "update" } },
        },
      ],
    });
    const markdown = renderComment([parsePreview({ stack: "ci", previewJson })]);
    expect(markdown).toContain("`data.conf`: `(text, 3 lines)` → `(text, 2 lines)`");
    expect(markdown).toContain("`note`: `x\\|y` → `` `z` ``");
  });

  it("parses Pulumi property paths, quoted keys included", () => {
    expect(parsePropertyPath('metadata.annotations["pulumi.com/autonamed"]')).toEqual([
      "metadata",
      "annotations",
      "pulumi.com/autonamed",
    ]);
    expect(parsePropertyPath("spec.containers[0].args[2]")).toEqual(["spec", "containers", 0, "args", 2]);
    expect(() => parsePropertyPath("a[b")).toThrow(/unclosed/);
  });

  it("CLI: bad arguments are named, exit code 2", () => {
    expect(() => parseArgs(["--preview", "x.json"])).toThrow(/must follow a --stack/);
    expect(() => parseArgs(["--stack", "ci"])).toThrow(/give --preview FILE, --events FILE or both/);
    expect(() => parseArgs(["--stack", "ci", "--preview", "/nonexistent.json"])).toThrow(/ENOENT/);
    expect(() => parseArgs(["--stack", "ci", "--frobnicate", "1"])).toThrow(/unknown option --frobnicate/);
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => stderr.push(chunk) > 0) as typeof process.stderr.write;
    try {
      expect(main(["--stack"])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(stderr.join("")).toMatch(/--stack needs a value/);
  });
});
