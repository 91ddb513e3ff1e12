import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { type KubernetesValidator, kubernetesValidator } from "../../test/support/kubernetes-schemas";
import {
  ADDON_FILES,
  addonObjects,
  addonValues,
  dnsCheckPod,
  placeholders,
  renderTemplate,
  toYaml,
} from "./addons";
import { clusterConfig, clusterDir, readVersions } from "./config";

const config = clusterConfig({ CHATAPI_CACHE: "/cache" }, readVersions());
const values = addonValues(config, "192.0.2.7", {
  caCrt: "CA PEM",
  metricsServerCrt: "CRT PEM",
  metricsServerKey: "KEY PEM",
});
const objects = addonObjects(values) as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
const find = (kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name)!;

let validator: KubernetesValidator;
beforeAll(async () => {
  validator = await kubernetesValidator();
});

describe("the add-on manifests", () => {
  it("are valid against the strict Kubernetes v1.33 schemas (unknown fields rejected), every one", () => {
    const all = [...objects, dnsCheckPod(values)];
    expect(all.length).toBe(27);
    for (const object of all) {
      expect(validator.strict(object)).toBe(true);
      expect(
        validator.validate(object),
        `${object.constructor.name} ${JSON.stringify(object).slice(0, 80)}`,
      ).toEqual([]);
    }
  });

  it("use only placeholders that have a value, and none is left after rendering", () => {
    for (const file of [...ADDON_FILES.map((f) => join("addons", f)), "dns-check.yaml"])
      for (const name of placeholders(readFileSync(join(clusterDir, file), "utf8")))
        expect(Object.keys(values)).toContain(name);
    expect(placeholders(readFileSync(join(clusterDir, "addons", "coredns.yaml"), "utf8"))).toEqual([
      "API_PORT",
      "CLUSTER_DNS",
      "CLUSTER_DOMAIN",
      "COREDNS_IMAGE",
      "NODE_IP",
    ]);
    expect(toYaml(objects)).not.toContain("${");
  });

  it("run CoreDNS on the host network with the API at 127.0.0.1 and no forward plugin (nothing leaves the machine)", () => {
    const corefile = find("ConfigMap", "coredns").data.Corefile as string;
    expect(corefile).toContain("bind 192.0.2.7");
    expect(corefile).toContain("kubernetes cluster.local in-addr.arpa ip6.arpa");
    expect(corefile).not.toContain("forward");
    const pod = find("Deployment", "coredns").spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.containers[0].env).toEqual([
      { name: "KUBERNETES_SERVICE_HOST", value: "127.0.0.1" },
      { name: "KUBERNETES_SERVICE_PORT", value: "6443" },
    ]);
    expect(pod.containers[0].image).toBe("docker.io/chatapi-local/coredns:v1.15.0");
    expect(find("Service", "kube-dns").spec.clusterIP).toBe("10.96.0.10");
  });

  it("keep volumes in the state folder and carry the metrics-server certificate and the CA", () => {
    const pathMap = JSON.parse(find("ConfigMap", "local-path-config").data["config.json"] as string);
    expect(pathMap.nodePathMap[0].paths).toEqual(["/cache/cluster/volumes"]);
    expect(find("ConfigMap", "local-path-config").data.setup).toContain('mkdir -m 0777 -p "$VOL_DIR"');
    const tls = find("Secret", "metrics-server-tls").data;
    expect(Buffer.from(tls["tls.crt"], "base64").toString()).toBe("CRT PEM");
    expect(Buffer.from(tls["tls.key"], "base64").toString()).toBe("KEY PEM");
    expect(Buffer.from(find("APIService", "v1beta1.metrics.k8s.io").spec.caBundle, "base64").toString()).toBe(
      "CA PEM",
    );
    expect(find("StorageClass", "local-path").metadata.annotations).toEqual({
      "storageclass.kubernetes.io/is-default-class": "true",
    });
    expect(find("StorageClass", "local-path-retain").reclaimPolicy).toBe("Retain");
  });

  it("render as YAML that parses back to the same objects (what kubectl apply reads)", () => {
    expect(parseAllDocuments(toYaml(objects)).map((d) => d.toJS())).toEqual(objects);
  });
});

describe("renderTemplate", () => {
  it("fills placeholders in string values, keeping the rest of the string", () => {
    expect(
      renderTemplate("a: 'x ${A} y'\nb: ['${B}']\nc: $NOT_OURS\n", { A: "1", B: "two" }, "t.yaml"),
    ).toEqual([{ a: "x 1 y", b: ["two"], c: "$NOT_OURS" }]);
  });

  it("names the file, document and placeholder that has no value", () => {
    expect(() => renderTemplate("a: 1\n---\nb: ${MISSING}\n", {}, "t.yaml")).toThrow(
      "t.yaml document 2: no value for placeholder ${MISSING}",
    );
  });

  it("names a YAML error with its file", () => {
    expect(() => renderTemplate("a: [1\n", {}, "bad.yaml")).toThrow(/^bad\.yaml: /);
  });
});
