// A docker CLI config folder (DOCKER_CONFIG) with contexts, written in the files' real format:
// what `docker context create NAME --docker host=...,ca=...,cert=...,key=...` and `docker context
// use NAME` write (checked against docker 28.2.2): contexts/meta/<sha256(NAME)>/meta.json,
// contexts/tls/<sha256(NAME)>/docker/{ca,cert,key}.pem, and currentContext in config.json.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ContextSpec {
  name: string;
  host: string;
  skipTlsVerify?: boolean;
  tls?: { ca?: string; cert?: string; key?: string };
}

export function dockerConfigWith(contexts: ContextSpec[], current?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-docker-config-"));
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ auths: {}, ...(current ? { currentContext: current } : {}) }, null, "\t"),
  );
  for (const context of contexts) {
    const digest = createHash("sha256").update(context.name).digest("hex");
    const meta = join(dir, "contexts", "meta", digest);
    mkdirSync(meta, { recursive: true });
    writeFileSync(
      join(meta, "meta.json"),
      JSON.stringify({
        Name: context.name,
        Metadata: {},
        Endpoints: { docker: { Host: context.host, SkipTLSVerify: context.skipTlsVerify ?? false } },
      }),
    );
    if (!context.tls) continue;
    const tls = join(dir, "contexts", "tls", digest, "docker");
    mkdirSync(tls, { recursive: true });
    for (const [part, content] of Object.entries(context.tls))
      writeFileSync(join(tls, `${part}.pem`), content, { mode: 0o600 });
  }
  return dir;
}
