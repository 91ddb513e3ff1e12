// Which engine the Docker target drives, and with what TLS: chatapi:docker.host when set, else
// the environment's engine (./docker-context.ts: DOCKER_HOST, the current docker context, the
// local socket). A tcp:// engine takes its TLS material from the config secrets
// (chatapi:dockerCaCertificate, dockerClientCertificate, dockerClientKey), else from the files
// that came with the host (the context's, DOCKER_CERT_PATH); without any it is refused unless
// chatapi:docker.insecureTcp allows it. ssh:// and unix:// engines need none.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config/issues";
import { type DockerTlsKey, tcpWithoutTlsIssue } from "../config/rules-docker";
import type { DeploymentPlan } from "../plan/types";
import { type EngineEndpoint, environmentEngine } from "./docker-context";
import type { DockerEngine } from "./docker-cli";

/** An engine's TLS material, each a Pulumi secret. */
export interface EngineTls {
  ca: pulumi.Output<string>;
  cert: pulumi.Output<string>;
  key: pulumi.Output<string>;
}

export interface ResolvedEngine {
  host: string;
  /** Where the host came from, in words. */
  source: string;
  tls?: EngineTls;
}

export interface EngineInput {
  stack: string;
  docker: Pick<DeploymentPlan["docker"], "host" | "insecureTcp">;
  /** The TLS config secrets that are set (already pulumi.secret()). */
  tlsSecrets: Partial<Record<DockerTlsKey, pulumi.Output<string>>>;
  /** Where DOCKER_HOST, DOCKER_CONTEXT and DOCKER_CONFIG are read (process.env in the program). */
  env: NodeJS.ProcessEnv;
}

export function resolveEngine(input: EngineInput): ResolvedEngine {
  const endpoint: EngineEndpoint = input.docker.host
    ? { host: input.docker.host, source: "chatapi:docker.host" }
    : environmentEngine(input.env);
  const { host, source } = endpoint;
  if (!host.startsWith("tcp://")) return { host, source };
  const { dockerCaCertificate: ca, dockerClientCertificate: cert, dockerClientKey: key } = input.tlsSecrets;
  if (ca && cert && key) return { host, source, tls: { ca, cert, key } };
  const files = endpoint.tls;
  if (files?.ca && files.cert && files.key)
    return {
      host,
      source,
      tls: { ca: pulumi.secret(files.ca), cert: pulumi.secret(files.cert), key: pulumi.secret(files.key) },
    };
  if (input.docker.insecureTcp) return { host, source };
  const problem =
    source === "chatapi:docker.host"
      ? undefined
      : `is unset, and ${source} names a tcp:// engine${files ? " with incomplete TLS files (ca.pem, cert.pem and key.pem are all needed)" : ""}`;
  throw new ConfigError(input.stack, [tcpWithoutTlsIssue(host, problem)]);
}

/** The engine as the docker CLI steps take it (the release switch): a secret when it carries TLS. */
export function cliEngine(engine: ResolvedEngine): pulumi.Output<DockerEngine> {
  if (!engine.tls) return pulumi.output({ host: engine.host });
  return pulumi
    .all([engine.tls.ca, engine.tls.cert, engine.tls.key])
    .apply(([ca, cert, key]) => ({ host: engine.host, tls: { ca, cert, key } }));
}
