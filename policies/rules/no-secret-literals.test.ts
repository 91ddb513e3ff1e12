import { describe, expect, it } from "vitest";
import { changed, check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { deployment, kubernetesObject } from "../test/kubernetes-fixtures";
import { PLANTED_SECRETS as S } from "../test/secrets";
import { noSecretLiterals as rule } from "./no-secret-literals";

describe(rule.name, () => {
  it("passes *_FILE variables, plain settings and the nginx ConfigMap", () => {
    expect(check(rule, deployment("api"))).toEqual([]);
    expect(check(rule, kubernetesObject("ConfigMap", "chatapi-prod-nginx"))).toEqual([]);
    expect(check(rule, kubernetesObject("ConfigMap", "chatapi-prod-app"))).toEqual([]);
    const durations = [
      "ACCESS_TOKEN_EXPIRE_MINUTES=60",
      "REFRESH_TOKEN_EXPIRE_DAYS=30",
      "SECRET_KEY_FILE=/run/secrets/secret_key",
    ];
    expect(check(rule, container("api", { envs: durations }))).toEqual([]);
  });

  it("fails secret-named variables and embedded credentials in Kubernetes env, without printing them", () => {
    const bad = changed(deployment("api"), (p) => {
      p.spec.template.spec.containers[0].env.push(
        { name: "SECRET_KEY", value: S.secretKey },
        { name: "BROKER", value: `amqp://chatapi:${S.password}@rabbitmq:5672/chatapi` },
        { name: "SMTP_PASSWORD", valueFrom: { secretKeyRef: { name: "smtp", key: "password" } } },
      );
      p.spec.template.spec.containers[0].args = ["serve", "--api-key", S.apiKey];
    });
    expect(check(rule, bad)).toEqual([
      'container "api": env SECRET_KEY holds a literal secret value (not shown)',
      'container "api": env BROKER holds a URL with an embedded password in plain text',
      'container "api": the command line passes --api-key in plain text',
    ]);
  });

  it("fails secrets in ConfigMaps: secret-named keys, private keys, password lines", () => {
    const bad = changed(kubernetesObject("ConfigMap", "chatapi-prod-app"), (p) => {
      p.data = {
        LOG_LEVEL: "INFO",
        DATABASE_PASSWORD: S.password,
        "tls.key": S.pem,
        "redis.conf": `port 6379\nrequirepass ${S.password}\n`,
        "aws.env": `region=eu-west-1\nkey=${S.awsKey}`,
      };
    });
    expect(check(rule, bad)).toEqual([
      'data key "DATABASE_PASSWORD" holds a literal secret value (not shown)',
      'data key "tls.key" holds a private key',
      'data key "redis.conf" sets a password in plain text (line 2)',
      'data key "aws.env" holds an AWS access key',
    ]);
  });

  it("fails the app's secret-bearing variables set directly on Docker", () => {
    const bad = container("api", {
      envs: [
        `DATABASE_URL=postgresql://chatapi:${S.password}@postgres/chatapi`,
        `SENTRY_DSN=https://${S.apiKey}@sentry.io/1`,
      ],
    });
    expect(check(rule, bad)).toEqual([
      "the container's env DATABASE_URL holds a URL with an embedded password in plain text",
      "the container's env SENTRY_DSN holds a literal secret value (not shown)",
    ]);
  });
});
