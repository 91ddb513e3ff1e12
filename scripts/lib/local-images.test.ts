// The local stack's images on a fresh engine: the app image's base images are made (offline) or
// pulled (upstream) before the app image is built, never after (a fresh machine's first
// `npm run local` failed with "BASE_IMAGE=chatapi-local/node:24-bookworm: no such image").
// The engine here is a recorder of what would be done; the real run is the cold `npm run local`
// in README "What a fresh machine costs".
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/support/paths";
import { type ImageEngine, ensurePlanImages, imagesBeforeBuilds } from "./local-images";
import { loadStackPlan } from "./stack-plan";

const planWith = (preset: "upstream" | "offline") =>
  loadStackPlan({ root: repoRoot, stack: "local", set: [`images.preset=${preset}`] }).plan;

/** An engine holding `onEngine` refs; scripts/images adds every chatapi-local/* ref the plan names. */
function recordingEngine(onEngine: string[], offlineMade: string[]) {
  const images = new Set(onEngine);
  const done: string[] = [];
  const engine: ImageEngine = {
    present: async (ref) => images.has(ref),
    pull: async (ref) => {
      done.push(`pull ${ref}`);
      images.add(ref);
    },
    makeOffline: async () => {
      done.push("scripts/images");
      for (const ref of offlineMade) images.add(ref);
    },
    build: async (key, ref, recipe) => {
      const missing = Object.values(recipe.args).filter((base) => !images.has(base));
      if (missing.length > 0) throw new Error(`${key}: built before its base ${missing.join(", ")}`);
      done.push(`build ${key} ${ref}`);
      images.add(ref);
    },
  };
  return { engine, done };
}

describe("local stack images on a fresh engine", () => {
  it("offline: scripts/images runs once, before the app image is built on its base", async () => {
    const plan = planWith("offline");
    const bases = Object.values(plan.images.app.build?.args ?? {});
    expect(bases.length).toBeGreaterThan(0);
    expect(bases.every((ref) => ref.startsWith("chatapi-local/"))).toBe(true);
    const offline = [...imagesBeforeBuilds(plan).keys()];
    const { engine, done } = recordingEngine([], offline);
    const said: string[] = [];
    await ensurePlanImages(plan, engine, (line) => said.push(line));
    expect(done).toEqual(["scripts/images", `build app ${plan.images.app.ref}`]);
    expect(said[0]).toMatch(
      /^offline images missing \(.*chatapi-local\/node:24-bookworm.*\): scripts\/images/,
    );
  });

  it("offline: nothing is made when every image is there already", async () => {
    const plan = planWith("offline");
    const { engine, done } = recordingEngine([...imagesBeforeBuilds(plan).keys()], []);
    await ensurePlanImages(plan, engine, () => undefined);
    expect(done).toEqual([`build app ${plan.images.app.ref}`]);
  });

  it("upstream: the app image's base is pulled like the service images, before the build", async () => {
    const plan = planWith("upstream");
    const { engine, done } = recordingEngine(["redis:7-bookworm"], []);
    await ensurePlanImages(plan, engine, () => undefined);
    expect(done).toEqual([
      "pull node:24-bookworm-slim",
      "pull postgres:15-bookworm",
      "pull rabbitmq:3.13",
      "pull nginxinc/nginx-unprivileged:1.28",
      `build app ${plan.images.app.ref}`,
    ]);
  });

  it("says which offline images scripts/images did not make (a stack naming its own)", async () => {
    const plan = planWith("offline");
    const { engine } = recordingEngine([], []);
    await expect(ensurePlanImages(plan, engine, () => undefined)).rejects.toThrow(
      /scripts\/images did not make chatapi-local\/node:24-bookworm/,
    );
  });
});
