// The rule core's parsers and matchers, on their own.
import { describe, expect, it } from "vitest";
import { parseImageRef, unpinnedReason } from "./images";
import { selectorMatches, typeTokenOf } from "./kubernetes";
import { parseNginx, seconds, splitArgs } from "./nginx";
import { quantity } from "./quantity";
import { embeddedSecret, isSecretName, secretArgument, secretLines } from "./secrets";
import { known } from "./values";

describe("rule core", () => {
  it("evaluates label selectors as the API server does", () => {
    const labels = { app: "chatapi", tier: "db" };
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "chatapi" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "other" } }, labels)).toBe(false);
    expect(
      selectorMatches(
        { matchExpressions: [{ key: "tier", operator: "In", values: ["db", "cache"] }] },
        labels,
      ),
    ).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }] }, labels),
    ).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels)).toBe(
      true,
    );
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels)).toBe(false);
    expect(selectorMatches(undefined, labels)).toBe(false);
  });

  it("derives Pulumi type tokens from manifests' apiVersion and kind", () => {
    expect(typeTokenOf("v1", "Service")).toBe("kubernetes:core/v1:Service");
    expect(typeTokenOf("apps/v1", "Deployment")).toBe("kubernetes:apps/v1:Deployment");
    expect(typeTokenOf("cert-manager.io/v1", "Certificate")).toBe(
      "kubernetes:cert-manager.io/v1:Certificate",
    );
  });

  it("parses quantities", () => {
    expect(quantity("500m")).toBe(0.5);
    expect(quantity("2")).toBe(2);
    expect(quantity("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(quantity("512M")).toBe(512e6);
    expect(quantity("1e3")).toBe(1000);
    expect(quantity("lots")).toBeUndefined();
  });

  it("parses image references and tells why one is not pinned", () => {
    expect(parseImageRef("postgres:15")).toEqual({
      registry: "docker.io",
      repository: "postgres",
      tag: "15",
    });
    expect(parseImageRef("localhost:5000/team/app:1.2")).toEqual({
      registry: "localhost:5000",
      repository: "team/app",
      tag: "1.2",
    });
    expect(parseImageRef("chatapi-local/redis:7")).toMatchObject({
      registry: "docker.io",
      repository: "chatapi-local/redis",
    });
    expect(unpinnedReason(`redis@sha256:${"a".repeat(64)}`)).toBeUndefined();
    expect(unpinnedReason("redis:latest")).toBe("uses the tag latest");
    expect(unpinnedReason("Not An Image")).toBe("is not a valid image reference");
  });

  it("reads nginx directives, quoted arguments and times", () => {
    expect(splitArgs(`Strict-Transport-Security "max-age=63072000; includeSubDomains" always`)).toEqual([
      "Strict-Transport-Security",
      "max-age=63072000; includeSubDomains",
      "always",
    ]);
    expect(splitArgs(`Connection ""`)).toEqual(["Connection", ""]);
    expect(parseNginx("http { server { listen 443 ssl; } }")?.[0]?.children?.[0]).toEqual({
      name: "server",
      args: [],
      children: [{ name: "listen", args: ["443", "ssl"] }],
    });
    expect(parseNginx("http { server { ")).toBeUndefined();
    expect([seconds("86400"), seconds("24h"), seconds("1d"), seconds("500ms"), seconds("soon")]).toEqual([
      86400,
      86400,
      86400,
      0.5,
      undefined,
    ]);
  });

  it("recognises secrets by name, by value and in config lines, without needing the value", () => {
    for (const name of [
      "SECRET_KEY",
      "SMTP_PASSWORD",
      "GITHUB_TOKEN",
      "BACKUP_S3_SECRET_ACCESS_KEY",
      "DATABASE_URL",
      "api-key",
    ])
      expect(isSecretName(name), name).toBe(true);
    for (const name of ["SECRET_KEY_FILE", "ACCESS_TOKEN_EXPIRE_MINUTES", "SMTP_USER", "PORT", "nginx.conf"])
      expect(isSecretName(name), name).toBe(false);
    expect(embeddedSecret("redis://:pw@redis:6379/0")).toBe("a URL with an embedded password");
    expect(embeddedSecret("https://sentry.example.com/1")).toBeUndefined();
    expect(secretLines("port 6379\nrequirepass abc\n# password = x\npassword = ${FROM_ENV}")).toEqual([2]);
    expect(secretArgument(["serve", "--password", "x"])).toBe("password");
    expect(secretArgument(["create-client", "--api-key-file", "/run/secrets/admin_api_key"])).toBeUndefined();
  });

  it("skips only values the engine does not know yet", () => {
    class UnknownValueError extends Error {}
    expect(
      known(() => {
        throw new UnknownValueError("unknown");
      }),
    ).toBeUndefined();
    expect(() =>
      known(() => {
        throw new TypeError("bug");
      }),
    ).toThrow("bug");
  });
});
