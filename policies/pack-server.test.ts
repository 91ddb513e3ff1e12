// The real pack, started the way the Pulumi CLI starts a Node.js policy pack (its folder as
// working directory, @pulumi/pulumi/cmd/run-policy-pack, ts-node type-checking index.ts), and
// called over the analyzer gRPC protocol the engine speaks: GetAnalyzerInfo, Configure,
// Analyze and AnalyzeStack. Secret and unknown values are encoded as the engine encodes them.
import { type ChildProcess, spawn } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rules } from "./rules";
import { changed } from "./test/check";
import { container } from "./test/docker-fixtures";
import { deployment, kubernetesObject, kubernetesSubjects } from "./test/kubernetes-fixtures";
import { PLANTED_SECRETS } from "./test/secrets";
import type { Subject } from "./core/types";

const packDir = __dirname;
/** How the engine marks secrets and unknowns in resource properties (sdk/go/common/resource/plugin). */
const secret = (value: unknown) => ({
  "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  value,
});
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let pack: ChildProcess;
let client: AnalyzerClient;
let stderr = "";

type Callback<T> = (error: grpc.ServiceError | null, response: T) => void;
const settle =
  <T>(resolve: (value: T) => void, reject: (error: Error) => void): Callback<T> =>
  (error, response) =>
    error ? reject(error) : resolve(response);

const rpc = {
  info: () =>
    new Promise<proto.AnalyzerInfo>((ok, fail) => client.getAnalyzerInfo(new Empty(), settle(ok, fail))),
  analyze: (request: proto.AnalyzeRequest) =>
    new Promise<proto.AnalyzeResponse>((ok, fail) => client.analyze(request, settle(ok, fail))),
  analyzeStack: (request: proto.AnalyzeStackRequest) =>
    new Promise<proto.AnalyzeResponse>((ok, fail) => client.analyzeStack(request, settle(ok, fail))),
  configure: (request: proto.ConfigureAnalyzerRequest) =>
    new Promise<Empty>((ok, fail) => client.configure(request, settle(ok, fail))),
};

const urnOf = (s: Subject) => `urn:pulumi:test::chatapi::${s.type}::${s.name}`;

function analyzeRequest(subject: Subject): proto.AnalyzeRequest {
  return new proto.AnalyzeRequest()
    .setType(subject.type)
    .setName(subject.name)
    .setUrn(urnOf(subject))
    .setProperties(Struct.fromJavaScript(subject.props as never))
    .setOptions(new proto.AnalyzerResourceOptions());
}

async function analyze(subject: Subject) {
  const response = await rpc.analyze(analyzeRequest(subject));
  return response.getDiagnosticsList().map((d) => {
    // The SDK sends "<policy description>\n<what reportViolation said>".
    expect(d.getMessage().startsWith(`${d.getDescription()}\n`)).toBe(true);
    return {
      policy: d.getPolicyname(),
      level: d.getEnforcementlevel(),
      message: d.getMessage().slice(d.getDescription().length + 1),
    };
  });
}

beforeAll(async () => {
  const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
  pack = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
    cwd: packDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  pack.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    pack.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(\d+)\s*$/m.exec(out);
      if (line) resolve(line[1]!);
    });
    pack.on("exit", (code) =>
      reject(new Error(`the pack exited with ${code} before serving:\n${stderr}${out}`)),
    );
  });
  client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 180_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

describe("the policy pack served as the Pulumi CLI runs it", () => {
  it("describes itself: name, version from package.json, every rule with its level, severity and remediation", async () => {
    const info = await rpc.info();
    expect(info.getName()).toBe("chatapi-policies");
    expect(info.getVersion()).toBe("0.1.0");
    const policies = info.getPoliciesList();
    expect(policies.map((p) => p.getName())).toEqual(rules.map((r) => r.name));
    for (const [i, policy] of policies.entries()) {
      const rule = rules[i]!;
      expect(policy.getEnforcementlevel()).toBe(
        rule.enforcementLevel === "mandatory"
          ? proto.EnforcementLevel.MANDATORY
          : proto.EnforcementLevel.ADVISORY,
      );
      expect(policy.getRemediationSteps()).toBe(rule.remediation);
      expect(policy.getSeverity()).not.toBe(0);
      expect(Boolean(policy.getConfigschema()), rule.name).toBe(rule.config !== undefined);
    }
  });

  it("reports a privileged Kubernetes container as a mandatory violation", async () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].securityContext.privileged = true;
    });
    expect(await analyze(bad)).toContainEqual({
      policy: "no-privileged-containers",
      level: proto.EnforcementLevel.MANDATORY,
      message: 'container "api" runs privileged (securityContext.privileged: true)',
    });
    expect(
      (await analyze(deployment("worker"))).filter((d) => d.level === proto.EnforcementLevel.MANDATORY),
    ).toEqual([]);
  });

  it("sees secret values as the engine sends them, and never prints them", async () => {
    const bad = changed(container("api"), (p) => {
      p.envs = [secret(`SECRET_KEY=${PLANTED_SECRETS.secretKey}`)];
    });
    const diagnostics = await analyze(bad);
    expect(diagnostics).toContainEqual({
      policy: "no-secret-literals",
      level: proto.EnforcementLevel.MANDATORY,
      message: "the container's env SECRET_KEY holds a literal secret value (not shown)",
    });
    expect(JSON.stringify(diagnostics)).not.toContain(PLANTED_SECRETS.secretKey);
  });

  it("skips values unknown during preview where another resource is checked instead", async () => {
    const preview = container("api", { image: UNKNOWN });
    const configMap = changed(kubernetesObject("ConfigMap", "chatapi-prod-app"), (p) => {
      p.data.GENERATED = UNKNOWN;
    });
    const build = {
      type: "docker:index/image:Image",
      name: "app",
      props: { imageName: "chatapi:1.0.0", skipPush: true, build: { args: { BASE_IMAGE: UNKNOWN } } },
    };
    for (const subject of [preview, configMap, build]) {
      const diagnostics = await analyze(subject);
      expect(
        diagnostics.filter((d) => /can't run/.test(d.message)),
        subject.name,
      ).toEqual([]);
    }
  });

  it("applies policy config from the engine (Configure)", async () => {
    expect((await analyze(deployment("api"))).map((d) => d.policy)).toContain("allowed-registries");
    const config = new proto.PolicyConfig()
      .setEnforcementlevel(proto.EnforcementLevel.ADVISORY)
      .setProperties(Struct.fromJavaScript({ allowedRegistries: ["registry.example.com"] }));
    const request = new proto.ConfigureAnalyzerRequest();
    request.getPolicyconfigMap().set("allowed-registries", config);
    await rpc.configure(request);
    expect((await analyze(deployment("api"))).map((d) => d.policy)).not.toContain("allowed-registries");
  });

  it("runs stack rules on AnalyzeStack and attaches findings to the resource's URN", async () => {
    const subjects = kubernetesSubjects().filter((s) => s.name !== "chatapi-prod-default-deny");
    const resources = subjects.map((s) =>
      new proto.AnalyzerResource()
        .setType(s.type)
        .setName(s.name)
        .setUrn(urnOf(s))
        .setProperties(Struct.fromJavaScript(s.props as never))
        .setOptions(new proto.AnalyzerResourceOptions()),
    );
    const response = await rpc.analyzeStack(new proto.AnalyzeStackRequest().setResourcesList(resources));
    const denied = response
      .getDiagnosticsList()
      .filter((d) => d.getPolicyname() === "network-policy-default-deny");
    expect(denied).toHaveLength(7);
    expect(denied.map((d) => d.getUrn())).toContain(
      "urn:pulumi:test::chatapi::kubernetes:apps/v1:Deployment::chatapi-prod-api",
    );
    expect(
      response
        .getDiagnosticsList()
        .filter((d) => d.getEnforcementlevel() === proto.EnforcementLevel.MANDATORY)
        .map((d) => d.getPolicyname())
        .filter((n) => n !== "network-policy-default-deny"),
    ).toEqual([]);
    expect(stderr).not.toMatch(/error/i);
  });
});
