// The cluster's CA, certificates, service-account key, static tokens and kubeconfigs, made once
// with openssl in <state>/pki (serving certificates carry the node IP: re-issued when it changes).
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterConfig } from "./config";
import { run } from "../../toolbox/exec";
import { say } from "./log";
import { TOKEN_USERS, kubeconfig, tokenUser, tokensCsv } from "./render";

/** Certificates signed by a cluster CA: name, subject, extended key usage, subjectAltName. */
export interface CertificateSpec {
  name: string;
  subject: string;
  usage: string;
  altNames?: string;
  ca?: "ca" | "front-proxy-ca";
}

/** Certificates that do not depend on the node IP. */
export const FIXED_CERTIFICATES: CertificateSpec[] = [
  {
    name: "etcd-server",
    subject: "/CN=etcd",
    usage: "serverAuth,clientAuth",
    altNames: "DNS:localhost,IP:127.0.0.1",
  },
  { name: "etcd-client", subject: "/CN=kube-apiserver-etcd-client", usage: "clientAuth" },
  {
    name: "apiserver-kubelet-client",
    subject: "/O=system:masters/CN=kube-apiserver-kubelet-client",
    usage: "clientAuth",
  },
  {
    name: "front-proxy-client",
    subject: "/CN=front-proxy-client",
    usage: "clientAuth",
    ca: "front-proxy-ca",
  },
];

/** Serving certificates that name the node IP. */
export function servingCertificates(config: ClusterConfig, ip: string): CertificateSpec[] {
  const domain = config.network.clusterDomain;
  const api = [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    `kubernetes.default.svc.${domain}`,
  ];
  return [
    {
      name: "apiserver",
      subject: "/CN=kube-apiserver",
      usage: "serverAuth",
      altNames: [
        ...api.map((n) => `DNS:${n}`),
        "DNS:localhost",
        "IP:127.0.0.1",
        `IP:${config.network.apiServiceIp}`,
        `IP:${ip}`,
      ].join(","),
    },
    {
      name: "kubelet",
      subject: `/CN=system:node:${config.nodeName}`,
      usage: "serverAuth",
      altNames: `DNS:${config.nodeName},DNS:localhost,IP:127.0.0.1,IP:${ip}`,
    },
    {
      name: "metrics-server",
      subject: "/CN=metrics-server",
      usage: "serverAuth",
      altNames: `DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.${domain},IP:${ip}`,
    },
  ];
}

/** The openssl extension file of a leaf certificate. */
export const extensions = (spec: CertificateSpec) =>
  [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${spec.usage}`,
    ...(spec.altNames ? [`subjectAltName=${spec.altNames}`] : []),
  ].join("\n") + "\n";

async function newKey(file: string): Promise<void> {
  await run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
  chmodSync(file, 0o600);
}

async function newCa(pki: string, name: string, cn: string): Promise<void> {
  await newKey(join(pki, `${name}.key`));
  await run("openssl", [
    ...[
      "req",
      "-x509",
      "-new",
      "-key",
      join(pki, `${name}.key`),
      "-subj",
      `/CN=${cn}`,
      "-days",
      "3650",
      "-sha256",
    ],
    ...["-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"],
    ...["-out", join(pki, `${name}.crt`)],
  ]);
}

async function sign(pki: string, spec: CertificateSpec): Promise<void> {
  const key = join(pki, `${spec.name}.key`);
  const csr = join(pki, `${spec.name}.csr`);
  const ext = join(tmpdir(), `chatapi-cluster-${spec.name}-${process.pid}.ext`);
  const ca = spec.ca ?? "ca";
  await newKey(key);
  writeFileSync(ext, extensions(spec));
  try {
    await run("openssl", ["req", "-new", "-key", key, "-subj", spec.subject, "-out", csr]);
    await run("openssl", [
      ...["x509", "-req", "-in", csr, "-CA", join(pki, `${ca}.crt`), "-CAkey", join(pki, `${ca}.key`)],
      ...[
        "-CAcreateserial",
        "-days",
        "3650",
        "-sha256",
        "-extfile",
        ext,
        "-out",
        join(pki, `${spec.name}.crt`),
      ],
    ]);
  } finally {
    rmSync(ext, { force: true });
    rmSync(csr, { force: true });
  }
}

const writePrivate = (file: string, text: string) => writeFileSync(file, text, { mode: 0o600 });

export async function ensurePki(config: ClusterConfig, ip: string): Promise<void> {
  const pki = config.paths.pki;
  const has = (file: string) => existsSync(join(pki, file));
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  chmodSync(pki, 0o700);
  mkdirSync(config.paths.kubeconfigs, { recursive: true });
  if (!has("ca.crt")) {
    say(`   creating the cluster CA, certificates and tokens with openssl in ${pki}`);
    await newCa(pki, "ca", "chatapi-local-cluster-ca");
  }
  // request-header CA for the aggregation layer (metrics-server)
  if (!has("front-proxy-ca.crt")) await newCa(pki, "front-proxy-ca", "chatapi-local-front-proxy-ca");
  if (!has("sa.key")) {
    await newKey(join(pki, "sa.key"));
    await run("openssl", ["pkey", "-in", join(pki, "sa.key"), "-pubout", "-out", join(pki, "sa.pub")]);
  }
  for (const spec of FIXED_CERTIFICATES) if (!has(`${spec.name}.crt`)) await sign(pki, spec);
  const serving = servingCertificates(config, ip);
  const recordedIp = has("node-ip") ? readFileSync(join(pki, "node-ip"), "utf8").trim() : undefined;
  if (recordedIp !== ip || serving.some((spec) => !has(`${spec.name}.crt`))) {
    say(`   issuing serving certificates for node IP ${ip}`);
    for (const spec of serving) await sign(pki, spec);
    writeFileSync(join(pki, "node-ip"), `${ip}\n`);
  }
  if (!has("tokens.csv")) {
    const tokens = TOKEN_USERS.map(() => randomBytes(24).toString("hex"));
    writePrivate(join(pki, "tokens.csv"), tokensCsv(config, tokens));
    const ca = readFileSync(join(pki, "ca.crt"), "utf8");
    TOKEN_USERS.forEach((u, i) =>
      writePrivate(
        join(config.paths.kubeconfigs, `${u.kubeconfig}.kubeconfig`),
        kubeconfig(config, ca, tokenUser(config, u.user), tokens[i]!),
      ),
    );
  }
}

export const readPki = (config: ClusterConfig, file: string) =>
  readFileSync(join(config.paths.pki, file), "utf8");
