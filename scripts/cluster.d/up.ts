// `scripts/cluster up`: build what is missing, start every component that is not running (in
// the order of UP_STEPS), apply the add-ons and prove DNS from a pod. On a healthy cluster it
// only re-imports changed images and re-applies changed add-ons.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { addonObjects, addonValues, dnsCheckPod, toYaml } from "./addons";
import { buildAll, buildOwnImages, installDebianPackages } from "./build";
import {
  COMPONENTS,
  type ComponentName,
  type ComponentSpec,
  UP_STEPS,
  type UpStep,
  componentSpecs,
} from "./components";
import { type ClusterConfig, clusterDir, ownImages } from "./config";
import { output } from "../../toolbox/exec";
import { nodeIp, prepareHostNetwork } from "./host-network";
import { crictl, importImages, localDockerImages } from "./images";
import { apiserverReady, availableReplicas, httpOk, kubectl, kubectlOutput, nodeReadyStatus } from "./kube";
import { lockFile, takeLock } from "./lock";
import { die, needRoot, say, seconds, sleep, step, stepEnd, waitFor } from "./log";
import { anyRunning, componentExe, logFile, running, startComponent, stopComponent } from "./processes";
import { ensurePki, readPki } from "./pki";
import { cniConflist, containerdConfig, crictlConfig, kubeletConfig } from "./render";
import { down } from "./down";

const upOkFile = (config: ClusterConfig) => join(config.paths.run, "up.ok");
const readUpOk = (config: ClusterConfig) =>
  existsSync(upOkFile(config)) ? readFileSync(upOkFile(config), "utf8").trim() : undefined;

/** The lb-controller runs this file with the Node.js running us and tsx's loader. */
const lbController = () => ({
  binary: process.execPath,
  args: ["--import", pathToFileURL(require.resolve("tsx")).href, join(clusterDir, "lb-controller.ts")],
});

async function specs(config: ClusterConfig, ip: string): Promise<Record<ComponentName, ComponentSpec>> {
  const containerd = (await output("sh", ["-c", "command -v containerd"], { reject: false })).trim();
  if (!containerd) die("containerd is not installed (Debian package containerd)");
  return componentSpecs(config, ip, { containerd, lbController: lbController() });
}

async function healthy(config: ClusterConfig, ip: string): Promise<boolean> {
  return (
    readUpOk(config) === ip &&
    COMPONENTS.every((c) => running(config, c)) &&
    (await apiserverReady(config)) &&
    (await nodeReadyStatus(config)) === "True" &&
    (await availableReplicas(config, "kube-system", "coredns")) === 1
  );
}

/** Writes the files a component reads before it starts. */
function prepare(config: ClusterConfig, name: ComponentName): void {
  if (name === "etcd") mkdirSync(join(config.state, "etcd"), { recursive: true, mode: 0o700 });
  if (name === "containerd")
    writeFileSync(join(config.state, "containerd", "config.toml"), containerdConfig(config));
  if (name === "kubelet") {
    mkdirSync(join(config.state, "kubelet"), { recursive: true });
    writeFileSync(join(config.state, "kubelet", "config.yaml"), kubeletConfig(config));
  }
}

async function start(config: ClusterConfig, spec: ComponentSpec): Promise<void> {
  if (running(config, spec.name)) return;
  step(spec.title);
  prepare(config, spec.name);
  await startComponent(config, spec.name, spec.binary, spec.args);
  const r = spec.readiness;
  if (r.kind === "http") await waitFor(r.seconds, r.what, () => httpOk(r.url));
  if (r.kind === "apiserver")
    await waitFor(r.seconds, "kube-apiserver /readyz", () => apiserverReady(config));
  // the socket answers before the CRI plugin is initialized ("server is not initialized yet"):
  // wait for the CRI itself, which the image import and the kubelet use
  if (r.kind === "containerd")
    await waitFor(r.seconds, "containerd's CRI", async () => {
      await crictl(config, ["info"]);
      return true;
    });
}

/** Starts the lb-controller, replacing one started by an older scripts/cluster (a bash loop). */
async function ensureLbController(config: ClusterConfig, spec: ComponentSpec): Promise<void> {
  const exe = componentExe(config, "lb-controller");
  if (running(config, "lb-controller") && exe !== realpathSync(spec.binary)) {
    step("replacing the LoadBalancer controller of an older scripts/cluster");
    await stopComponent(config, "lb-controller");
  }
  await start(config, spec);
}

async function applyAddons(config: ClusterConfig, ip: string, ifChanged: boolean): Promise<void> {
  mkdirSync(config.paths.volumes, { recursive: true });
  mkdirSync(config.paths.manifests, { recursive: true });
  const file = join(config.paths.manifests, "addons.yaml");
  const values = addonValues(config, ip, {
    caCrt: readPki(config, "ca.crt"),
    metricsServerCrt: readPki(config, "metrics-server.crt"),
    metricsServerKey: readPki(config, "metrics-server.key"),
  });
  const yaml = toYaml(addonObjects(values));
  if (ifChanged && existsSync(file) && readFileSync(file, "utf8") === yaml) return;
  step(
    `applying add-ons (CoreDNS at ${config.network.clusterDns}, local-path-provisioner + default StorageClass, metrics-server)`,
  );
  // holds the metrics-server's private key
  writeFileSync(`${file}.new`, yaml, { mode: 0o600 });
  renameSync(`${file}.new`, file);
  const log = logFile(config, "addons-apply");
  const result = await kubectl(config, ["apply", "-f", file], { reject: false, all: true });
  writeFileSync(log, String(result.all));
  if (result.exitCode !== 0) {
    process.stderr.write(`${String(result.all)}\n`);
    die("kubectl apply of the add-ons failed");
  }
}

async function dnsCheck(config: ClusterConfig, ip: string): Promise<void> {
  step(`checking DNS from a pod (kube-dns.kube-system.svc.${config.network.clusterDomain})`);
  const pod = ["-n", "kube-system"];
  const quiet = { reject: false } as const;
  await kubectl(
    config,
    [...pod, "delete", "pod", "chatapi-dns-check", "--ignore-not-found", "--wait=false"],
    quiet,
  );
  await kubectl(config, [...pod, "wait", "--for=delete", "pod/chatapi-dns-check", "--timeout=30s"], quiet);
  const values = addonValues(config, ip, { caCrt: "", metricsServerCrt: "", metricsServerKey: "" });
  await kubectl(config, ["apply", "-f", "-"], { input: toYaml([dnsCheckPod(values)]) });
  let phase: string | undefined;
  for (let i = 0; i < 360 && phase !== "Succeeded" && phase !== "Failed"; i++) {
    phase = await kubectlOutput(config, [
      ...pod,
      "get",
      "pod",
      "chatapi-dns-check",
      "-o",
      "jsonpath={.status.phase}",
    ]);
    if (phase !== "Succeeded" && phase !== "Failed") await sleep(250);
  }
  if (phase !== "Succeeded") {
    const logs = await kubectlOutput(config, [...pod, "logs", "chatapi-dns-check"]);
    const describe = await kubectlOutput(config, [...pod, "describe", "pod", "chatapi-dns-check"]);
    process.stderr.write(`${logs ?? ""}\n${(describe ?? "").split("\n").slice(-20).join("\n")}\n`);
    die(`DNS check pod ended as '${phase || "unknown"}'`);
  }
  await kubectl(config, [...pod, "delete", "pod", "chatapi-dns-check", "--wait=false"], { stdout: "ignore" });
}

async function syncLocalImages(config: ClusterConfig): Promise<void> {
  const images = await localDockerImages(config);
  step(`importing ${images.length} Docker image(s) named ${config.images.localPrefix}* into containerd`);
  await importImages(config, images);
}

async function rolledOut(config: ClusterConfig, namespace: string, deployment: string, failure: string) {
  const result = await kubectl(
    config,
    ["-n", namespace, "rollout", "status", `deploy/${deployment}`, "--timeout=120s"],
    { reject: false, stdout: "ignore" },
  );
  if (result.exitCode !== 0) die(failure);
}

/** What each step of UP_STEPS does. */
function upSteps(
  config: ClusterConfig,
  ip: string,
  s: Record<ComponentName, ComponentSpec>,
): Record<UpStep, () => Promise<void>> {
  const node = config.nodeName;
  return {
    "host-network": async () => {
      step(
        `preparing host networking (br_netfilter, ip_forward, FORWARD accept for ${config.network.podCidr})`,
      );
      await prepareHostNetwork(config);
    },
    certificates: async () => {
      step(`certificates, tokens and kubeconfigs (${config.paths.pki})`);
      await ensurePki(config, ip);
    },
    "cni-config": async () => {
      mkdirSync(join(config.state, "cni", "net.d"), { recursive: true });
      mkdirSync(join(config.state, "cni", "ipam"), { recursive: true });
      writeFileSync(join(config.state, "cni", "net.d", "10-chatapi.conflist"), cniConflist(config));
    },
    etcd: () => start(config, s.etcd),
    "kube-apiserver": () => start(config, s["kube-apiserver"]),
    "kube-controller-manager": () => start(config, s["kube-controller-manager"]),
    "kube-scheduler": () => start(config, s["kube-scheduler"]),
    containerd: async () => {
      mkdirSync(join(config.state, "containerd"), { recursive: true });
      writeFileSync(join(config.state, "containerd", "crictl.yaml"), crictlConfig(config));
      await start(config, s.containerd);
    },
    "import-images": async () => {
      step("importing the cluster's own images (pause, CoreDNS, local-path, metrics-server)");
      await importImages(config, ownImages(config));
      await syncLocalImages(config);
    },
    kubelet: () => start(config, s.kubelet),
    "kube-proxy": () => start(config, s["kube-proxy"]),
    "wait-node-registered": async () => {
      step(`waiting for node ${node} to register`);
      await waitFor(
        60,
        `node ${node} to register`,
        async () => (await kubectlOutput(config, ["get", "node", node])) !== undefined,
      );
    },
    addons: () => applyAddons(config, ip, false),
    "lb-controller": () => ensureLbController(config, s["lb-controller"]),
    "wait-node-ready": async () => {
      step(`waiting for node ${node} to be Ready`);
      await waitFor(120, `node ${node} Ready`, async () => (await nodeReadyStatus(config)) === "True");
    },
    "wait-addons": async () => {
      step("waiting for CoreDNS and the local-path provisioner");
      await rolledOut(
        config,
        "kube-system",
        "coredns",
        "CoreDNS did not become ready (kubectl -n kube-system describe pod -l k8s-app=kube-dns)",
      );
      await rolledOut(
        config,
        "local-path-storage",
        "local-path-provisioner",
        "local-path-provisioner did not become ready",
      );
    },
    "dns-check": () => dnsCheck(config, ip),
  };
}

export async function up(config: ClusterConfig): Promise<void> {
  needRoot();
  const started = performance.now();
  await takeLock(lockFile(config, "build"));
  mkdirSync(join(config.cache, "log"), { recursive: true });
  await installDebianPackages(config);
  await buildAll(config);
  await buildOwnImages(config);
  await takeLock(lockFile(config, "run"));
  const ip = await nodeIp(config);
  const s = await specs(config, ip);
  // A kubelet configuration this checkout renders differently takes effect now (the kubelet reads
  // it only at start; restarting it leaves the pods' containers running).
  const kubeletFile = join(config.state, "kubelet", "config.yaml");
  if (
    running(config, "kubelet") &&
    existsSync(kubeletFile) &&
    readFileSync(kubeletFile, "utf8") !== kubeletConfig(config)
  ) {
    say("the kubelet's configuration changed: restarting the kubelet");
    await stopComponent(config, "kubelet");
  }
  if (await healthy(config, ip)) {
    say(`cluster already up and healthy (node ${config.nodeName} Ready, DNS up): nothing to start`);
    await ensurePki(config, ip);
    await importImages(config, ownImages(config));
    await applyAddons(config, ip, true);
    await ensureLbController(config, s["lb-controller"]);
    await syncLocalImages(config);
    stepEnd();
    say(`kubeconfig: ${config.paths.adminKubeconfig} (${seconds(started)})`);
    return;
  }
  const previousIp = readUpOk(config);
  if (previousIp && previousIp !== ip && anyRunning(config)) {
    say(`the node IP changed (${previousIp} -> ${ip}): restarting the cluster`);
    await down(config, false);
  }
  rmSync(upOkFile(config), { force: true });
  mkdirSync(config.paths.run, { recursive: true });
  mkdirSync(config.paths.logs, { recursive: true });
  const steps = upSteps(config, ip, s);
  for (const name of UP_STEPS) await steps[name]();
  writeFileSync(upOkFile(config), `${ip}\n`);
  stepEnd();
  say(
    `cluster up in ${seconds(started)}: node ${config.nodeName} Ready, API https://127.0.0.1:${config.ports.api}`,
  );
  say(`export KUBECONFIG=${config.paths.adminKubeconfig}`);
}
