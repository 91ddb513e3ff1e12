// The defaults come from the config table (./schema.ts): for every environment, target and
// image preset they are complete and valid against the same schema a stack file is checked with.
import { describe, expect, it } from "vitest";
import { defaultsFor, deriveDefaults } from "./defaults";
import { validateAgainstSchema } from "./validate";

const contexts = (["local", "production"] as const).flatMap((environment) =>
  (["docker", "kubernetes"] as const).flatMap((target) =>
    (["upstream", "offline"] as const).map((preset) => ({
      environment,
      target,
      preset,
      appVersion: "1.2.3",
    })),
  ),
);

describe("defaults from the config table", () => {
  it.each(contexts)("$environment / $target / $preset: every default is valid", (ctx) => {
    // Production has no default domain (rules.ts asks for one).
    const settings = deriveDefaults({ ...defaultsFor(ctx), domain: "chat.example.com" }, {});
    expect(validateAgainstSchema(settings, new Set())).toEqual([]);
    expect(settings.app.corsOrigins).toEqual([
      ctx.environment === "production" ? "https://chat.example.com" : "https://chat.example.com:8443",
    ]);
    expect(settings.images.appBuildImage).toBe(
      ctx.preset === "upstream" ? settings.images.appBaseImage : "chatapi-local/node:24-bookworm-build",
    );
  });

  it("derives a default only where the key is not set", () => {
    const ctx = { environment: "local", target: "docker", preset: "upstream", appVersion: "1" } as const;
    const given = { smtp: { from: "me@example.org" }, api: { autoscaling: { minReplicas: 4 } } };
    const defaults = defaultsFor(ctx);
    const settings = deriveDefaults(
      {
        ...defaultsFor(ctx),
        smtp: { ...defaults.smtp, ...given.smtp },
        api: { ...defaults.api, replicas: 5 },
      },
      given,
    );
    expect(settings.smtp.from).toBe("me@example.org");
    expect(settings.admin.email).toBe("admin@example.com");
    // Set by the user: not derived from api.replicas (5); the merge (load.ts) puts the value there.
    expect(settings.api.autoscaling.minReplicas).toBe(2);
    expect(
      deriveDefaults({ ...defaults, api: { ...defaults.api, replicas: 5 } }, {}).api.autoscaling.minReplicas,
    ).toBe(5);
  });

  it("gives each stack its own lists (a change to one stack's default is not another's)", () => {
    const ctx = { environment: "local", target: "docker", preset: "upstream", appVersion: "1" } as const;
    defaultsFor(ctx).firewall.sshAllowFrom.push("10.0.0.0/8");
    expect(defaultsFor(ctx).firewall.sshAllowFrom).toEqual(["0.0.0.0/0"]);
  });
});
