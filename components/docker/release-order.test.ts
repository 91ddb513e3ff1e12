// A new release on the Pulumi Docker target, under runtime mocks: the program runs with app
// image 1.0.0, then with 1.0.1, and the two resource graphs are compared. What changes is only
// the release's containers (new logical names: created, never replaced) and the release switch
// (updated, after every new API container, each created only once healthy); nginx, the data
// stores, networks and volumes keep identical inputs. The order a `pulumi up` runs these steps
// in follows from Pulumi's documented rules, applied below to the graphs: steps run in
// registration order once their dependencies are done, and resources gone from the program
// are deleted after every other step (so the old release goes last, drained by its stop
// timeout).
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { readStackFile } from "../config/stack-file";
import { applyOverrides } from "../../scripts/lib/stack-plan";
import { type ProgramResult, runProgram } from "../../stacks/program";
import { noDockerEnvironment, repoRoot } from "../../test/support/paths";
import { type Captured, installMocks, plain, valueOf } from "../../test/support/pulumi-mocks";

const mocks = installMocks();
const SWITCH = "pulumi-nodejs:dynamic/chatapi:ReleaseSwitch";
const CONTAINER = "docker:index/container:Container";

async function graph(
  stack: string,
  image: string,
): Promise<{ result: ProgramResult; resources: Captured[] }> {
  const file = readStackFile(repoRoot, "local");
  const from = mocks.captured.length;
  const result = runProgram({
    stack,
    config: applyOverrides(file.config, [`images.app=${image}`]),
    secretKeys: file.secretKeys,
    projectDir: repoRoot,
    env: noDockerEnvironment,
  });
  const groups = Object.values(result.docker?.groups ?? {});
  await valueOf(pulumi.all(groups.flatMap((g) => g!.containers.map((c) => c.id))));
  await valueOf(result.docker!.releaseSwitch!.release);
  // Names without the stack, so the two runs' graphs line up (each run is its own stack here).
  const resources = mocks.captured
    .slice(from)
    .filter((r) => r.name.startsWith(`chatapi-${stack}-`))
    .map((r) => ({
      ...r,
      name: r.name.replace(`chatapi-${stack}-`, "chatapi-x-"),
      dependencies: r.dependencies.map((d) => d.replace(`chatapi-${stack}-`, "chatapi-x-")),
      inputs: JSON.parse(
        JSON.stringify(plain(r.inputs)).replaceAll(`chatapi-${stack}-`, "chatapi-x-"),
      ) as Record<string, unknown>,
    }));
  return { result, resources };
}

type Op = "create" | "same" | "update" | "replace" | "delete";
interface Step {
  op: Op;
  name: string;
  type: string;
}

/** The steps of going from `before` to `after`, in the order Pulumi runs them (see the top). */
function steps(before: Captured[], after: Captured[]): Step[] {
  const key = (r: Captured) => `${r.type}::${r.name}`;
  const old = new Map(before.map((r) => [key(r), r]));
  const now = new Set(after.map(key));
  const out: Step[] = after.map((r) => {
    const was = old.get(key(r));
    const op: Op = !was
      ? "create"
      : JSON.stringify(was.inputs) === JSON.stringify(r.inputs)
        ? "same"
        : r.type === CONTAINER
          ? "replace" // the docker provider replaces a container on any change of its inputs
          : "update";
    return { op, name: r.name, type: r.type };
  });
  const deletes = before.filter((r) => !now.has(key(r))).reverse();
  return [...out, ...deletes.map((r) => ({ op: "delete" as const, name: r.name, type: r.type }))];
}

describe("a new release on the Pulumi Docker target (runtime mocks, two runs)", async () => {
  // The same stack both times (the mocks' generated secrets follow the stack's names).
  const a = await graph("rel", "registry.example.com/chatapi:1.0.0");
  const b = await graph("rel", "registry.example.com/chatapi:1.0.1");
  const relA = a.result.docker!.release;
  const relB = b.result.docker!.release;
  const plan = steps(a.resources, b.resources);
  const containers = (s: Step[]) => s.filter((x) => x.type === CONTAINER && !x.name.endsWith("-files"));
  const at = (op: Op, name: string) => plan.findIndex((s) => s.op === op && s.name === name);

  it("gives the new image its own release, whose containers are new resources; the old release's are deleted", () => {
    expect(relB).not.toBe(relA);
    const created = containers(plan.filter((s) => s.op === "create")).map((s) => s.name);
    const deleted = containers(plan.filter((s) => s.op === "delete")).map((s) => s.name);
    for (const role of ["migrate", "bootstrap-admin", "api", "worker", "backup"]) {
      expect(created.filter((n) => n.includes(`-${role}-${relB}`)).length, role).toBeGreaterThan(0);
      expect(deleted.filter((n) => n.includes(`-${role}-${relA}`)).length, role).toBeGreaterThan(0);
    }
    expect(plan.filter((s) => s.op === "replace")).toEqual([]);
  });

  it("leaves nginx, the data stores, networks and volumes untouched (same inputs: no restart)", () => {
    for (const name of ["nginx", "postgres", "redis", "rabbitmq"])
      expect(plan.find((s) => s.name === `chatapi-x-${name}`)?.op, name).toBe("same");
    for (const s of plan.filter(
      (x) => /network:Network|volume:Volume/.test(x.type) && !x.name.includes(relA) && !x.name.includes(relB),
    ))
      expect(s.op, s.name).toBe("same");
  });

  it("switches nginx after every new API instance is created and healthy, and before the old release is deleted", () => {
    const switched = b.resources.find((r) => r.type === SWITCH)!;
    expect(at("update", switched.name)).toBeGreaterThan(-1);
    const newApi = b.resources.filter(
      (r) => r.type === CONTAINER && new RegExp(`-api-${relB}-\\d+$`).test(r.name),
    );
    expect(newApi.length).toBe(2);
    for (const api of newApi) {
      expect(switched.dependencies, api.name).toContain(api.name);
      // `wait`: the provider creates a container only once its health check (readiness) passes.
      expect(api.inputs).toMatchObject({ wait: true, waitTimeout: 120 });
      expect(at("create", api.name)).toBeLessThan(at("update", switched.name));
    }
    expect((switched.inputs.file as { content: string }).content).toContain(`server api-${relB}-1:8000`);
    expect(switched.inputs.release).toBe(relB);
    const firstDelete = plan.findIndex((s) => s.op === "delete");
    expect(at("update", switched.name)).toBeLessThan(firstDelete);
    // The first time, nginx starts only after the switch wrote its servers file: its component
    // depends on the switch (its containers register under the component, whose registration
    // awaits the switch's creation). Later releases leave nginx as it is: the switch reloads it.
    const nginx = b.resources.find((r) => r.type === "chatapi:docker:LoadBalancer")!;
    expect(nginx.dependencies).toEqual([switched.name]);
  });

  it("deletes the old release's API instances gracefully: SIGTERM and their drain time before removal", () => {
    const oldApi = a.resources.filter(
      (r) => r.type === CONTAINER && new RegExp(`-api-${relA}-\\d+$`).test(r.name),
    );
    for (const api of oldApi) {
      expect(api.inputs).toMatchObject({ stopTimeout: 45, destroyGraceSeconds: 45 });
      expect(at("delete", api.name)).toBeGreaterThan(plan.findIndex((s) => s.type === SWITCH));
    }
  });

  it("changes nothing when the same image is deployed again (the same release)", async () => {
    const again = await graph("rel", "registry.example.com/chatapi:1.0.0");
    expect(again.result.docker!.release).toBe(relA);
    expect(steps(a.resources, again.resources).filter((s) => s.op !== "same")).toEqual([]);
  });
});
