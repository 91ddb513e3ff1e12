// Pulumi runtime mocks in the capture style (pulumi-awsx tests): every registered resource is
// recorded with its inputs (secrets keep their secret wrapper), and resources that produce
// values get deterministic fake ones, remembered so tests can search for them.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export interface Captured {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Names of the resources this one waits for (dependsOn, components expanded to their children). */
  dependencies: string[];
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex");

export interface MockState {
  captured: Captured[];
  /** Every secret value a mock generated (passwords, private keys). */
  generatedSecrets: string[];
  /** Containers whose exit code the mock reports as failed (one-shot jobs). */
  failingContainers: Set<string>;
}

export function installMocks(): MockState {
  const state: MockState = { captured: [], generatedSecrets: [], failingContainers: new Set() };
  // The mocks' newResource sees no dependencies: the registration request carries them.
  const pendingDependencies = new Map<string, string[]>();
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const dependencies = pendingDependencies.get(`${args.type}::${args.name}`) ?? [];
        state.captured.push({ type: args.type, name: args.name, inputs: args.inputs, dependencies });
        const outputs: Record<string, unknown> = { ...args.inputs };
        const h = hash(args.name);
        const metadata = args.inputs.metadata as Record<string, unknown> | undefined;
        if (args.type.startsWith("kubernetes:") && metadata && metadata.name === undefined) {
          // The provider's auto-naming: <resource name>-<random suffix>.
          outputs.metadata = { ...metadata, name: `${args.name}-${h.slice(0, 8)}` };
        }
        switch (args.type) {
          case "random:index/randomPassword:RandomPassword": {
            const value = `Pw${h.slice(0, Number(args.inputs.length ?? 32) - 2)}`;
            state.generatedSecrets.push(value);
            outputs.result = value;
            break;
          }
          case "random:index/randomUuid:RandomUuid":
            outputs.result = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
            break;
          case "tls:index/privateKey:PrivateKey": {
            const pem = `-----BEGIN PRIVATE KEY-----\nMOCK${h}\n-----END PRIVATE KEY-----\n`;
            state.generatedSecrets.push(`MOCK${h}`);
            outputs.privateKeyPem = pem;
            break;
          }
          case "tls:index/selfSignedCert:SelfSignedCert":
          case "tls:index/locallySignedCert:LocallySignedCert":
            outputs.certPem = `-----BEGIN CERTIFICATE-----\nCERT${h}\n-----END CERTIFICATE-----\n`;
            break;
          case "tls:index/certRequest:CertRequest":
            outputs.certRequestPem = `-----BEGIN CERTIFICATE REQUEST-----\nCSR${h}\n-----END CERTIFICATE REQUEST-----\n`;
            break;
          case "docker:index/image:Image":
            outputs.repoDigest = `sha256:${h}`;
            break;
          case "docker:index/remoteImage:RemoteImage":
            outputs.imageId = `sha256:${hash(String(args.inputs.name))}`;
            break;
          case "docker:index/container:Container":
            outputs.exitCode = state.failingContainers.has(args.name) ? 1 : 0;
            break;
        }
        return { id: `${args.name}-id`, state: outputs };
      },
      call(args) {
        return args.inputs;
      },
    },
    "chatapi",
    "test",
    false, // preview=false: unknowns would never resolve
  );
  recordDependencies(pendingDependencies);
  return state;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
}

/** Wraps the mock monitor's registerResource to note each request's dependency URNs by name. */
function recordDependencies(into: Map<string, string[]>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, callback: unknown) => unknown;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const names = req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2));
    into.set(`${req.getType()}::${req.getName()}`, names);
    return original(req, callback);
  };
}

/** Resolves an output (the STYLE.md way). */
export const valueOf = <T>(output: pulumi.Output<T>): Promise<T> =>
  new Promise((resolve) => output.apply(resolve));

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** A captured input that was a Pulumi secret. */
export function isSecretInput(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

/** A captured input with secret wrappers removed. */
export function plain(value: unknown): unknown {
  if (isSecretInput(value)) return plain(value.value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
