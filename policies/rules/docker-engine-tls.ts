// The Docker target's engine: a tcp:// engine reached without TLS is root on its host for anyone
// who reaches the port. The toolkit refuses one unless chatapi:docker.insecureTcp opts in (for
// an engine on loopback or a private CI network); this rule keeps that opt-in visible.
import type { ResourceRule } from "../core/types";
import { known, str } from "../core/values";

export const DOCKER_PROVIDER = "pulumi:providers:docker";

/** Set, or set but unknown (a secret during preview). */
const present = (value: unknown) => value !== undefined && value !== null && value !== "";

export const dockerEngineTls: ResourceRule = {
  kind: "resource",
  name: "docker-engine-tls",
  description:
    "The Docker engine is reached over TLS: a tcp:// engine needs its CA, a client certificate and key (mutual TLS); plain tcp:// gives root on the host to whoever reaches the port.",
  enforcementLevel: "advisory",
  severity: "high",
  remediation:
    "Set chatapi:dockerCaCertificate, chatapi:dockerClientCertificate and chatapi:dockerClientKey (secrets) and remove chatapi:docker.insecureTcp, or reach the engine over ssh://user@host.",
  targets: ["docker"],
  validate(subject) {
    if (subject.type !== DOCKER_PROVIDER) return [];
    const host = known(() => str(subject.props.host));
    if (!host?.startsWith("tcp://")) return [];
    const props = subject.props;
    if (known(() => present(props.certPath))) return [];
    // A value unknown during preview is set (a secret from another resource): only absent ones count.
    const missing = ["caMaterial", "certMaterial", "keyMaterial"].filter(
      (input) => !(known(() => present(props[input])) ?? true),
    );
    if (missing.length === 0) return [];
    return [`the engine ${host} is reached over tcp:// without ${missing.join(", ")} (no mutual TLS)`];
  },
};
