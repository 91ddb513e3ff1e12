// The upstream watcher (nginx before 1.27.3 with a DNS upstream): which load balancers need it,
// and the rendered script run for real by bash, with a stand-in `getent` whose answers the test
// changes and a stand-in nginx master that records the SIGHUPs it gets.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LoadBalancerPlan } from "../plan/types";
import {
  needsUpstreamWatcher,
  nginxResolvesUpstreams,
  renderUpstreamWatcher,
  upstreamWatcherHeartbeat,
  upstreamWatcherProbe,
} from "./upstream-watcher";

const NAME = "chatapi-kind-api-headless.chatapi-kind.svc.cluster.local";

function loadBalancer(nginxVersion: string, pidFile = "/tmp/nginx.pid"): LoadBalancerPlan {
  return {
    domain: "chat.example.com",
    listen: { http: 8080, https: 8443 },
    public: { http: 80, https: 443, address: "0.0.0.0" },
    upstream: { kind: "dns", name: NAME, port: 8000, resolver: "kube-dns.kube-system.svc.cluster.local" },
    apiPrefix: "/api/v1",
    wsReadTimeoutSeconds: 86400,
    keepaliveTimeoutSeconds: 65,
    clientMaxBodySize: "1m",
    hstsMaxAgeSeconds: 63072000,
    trustedProxies: [],
    nginxVersion,
    paths: {
      certificate: "/run/secrets/tls_certificate",
      privateKey: "/run/secrets/tls_private_key",
      dhParams: "/etc/nginx/chatapi/dhparam.pem",
      pidFile,
      tempDir: "/tmp",
    },
  };
}

describe("which nginx needs the watcher", () => {
  it("is every nginx before 1.28 with a DNS upstream, and none with a static list", () => {
    expect(nginxResolvesUpstreams(loadBalancer("1.22"))).toBe(false);
    expect(nginxResolvesUpstreams(loadBalancer("1.27"))).toBe(false);
    expect(nginxResolvesUpstreams(loadBalancer("1.28"))).toBe(true);
    expect(nginxResolvesUpstreams(loadBalancer("1.30"))).toBe(true);
    expect(needsUpstreamWatcher(loadBalancer("1.22"))).toBe(true);
    expect(needsUpstreamWatcher(loadBalancer("1.28"))).toBe(false);
    const staticList = { ...loadBalancer("1.22"), upstream: { kind: "static" as const, servers: [] } };
    expect(needsUpstreamWatcher(staticList)).toBe(false);
    expect(() => renderUpstreamWatcher(staticList, { intervalSeconds: 5 })).toThrow(
      "only a DNS upstream needs re-resolving",
    );
    expect(() => renderUpstreamWatcher(loadBalancer("1.22"), { intervalSeconds: 0.5 })).toThrow(
      "the watch interval must be a whole number of seconds, not 0.5",
    );
  });
});

describe("the watcher script, run by bash", () => {
  let dir: string;
  let nginx: ChildProcess | undefined;
  let watcher: ChildProcess | undefined;
  let output = "";

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "chatapi-upstream-watcher-"));
    output = "";
  });
  afterEach(() => {
    for (const child of [watcher, nginx]) if (child?.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  const hups = () => readFileSync(join(dir, "hups"), "utf8").split("\n").filter(Boolean).length;
  const answer = (addresses: string[]) =>
    writeFileSync(
      join(dir, "answer"),
      addresses.flatMap((a) => [`${a}      STREAM ${NAME}`, `${a}      DGRAM`, `${a}      RAW`]).join("\n"),
    );
  async function until(what: string, check: () => boolean, seconds = 15) {
    const deadline = Date.now() + seconds * 1000;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`${what} did not happen within ${seconds} s; output:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const quietFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("reloads nginx once at start, then only when the set of addresses changes", async () => {
    // A stand-in nginx master: records each SIGHUP; its pid goes into the pid file as nginx writes it.
    writeFileSync(join(dir, "hups"), "");
    nginx = spawn("bash", ["-c", `trap 'echo hup >> ${dir}/hups' HUP; while :; do sleep 0.1; done`], {
      stdio: "ignore",
    });
    writeFileSync(join(dir, "nginx.pid"), `${nginx.pid}\n`);
    // getent answers from a file the test rewrites (the real one asks the cluster DNS).
    writeFileSync(
      join(dir, "getent"),
      `#!/bin/bash\n[ "$1 $2" = "ahostsv4 ${NAME}" ] || exit 2\n[ -s ${dir}/answer ] || exit 2\ncat ${dir}/answer\n`,
    );
    chmodSync(join(dir, "getent"), 0o755);
    answer(["10.244.0.12", "10.244.0.11"]);
    writeFileSync(
      join(dir, "watch.sh"),
      renderUpstreamWatcher(loadBalancer("1.22", join(dir, "nginx.pid")), { intervalSeconds: 1 }),
    );

    watcher = spawn("bash", [join(dir, "watch.sh")], {
      env: { PATH: `${dir}:${process.env.PATH}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    watcher.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    watcher.stderr!.on("data", (d: Buffer) => (output += d.toString()));

    await until("the first reload", () => hups() === 1);
    expect(output).toContain(`upstream-watcher: ${NAME} is 10.244.0.11 10.244.0.12: reloaded nginx`);
    await quietFor(2500);
    expect(hups(), "the same addresses in another order are no change").toBe(1);

    answer(["10.244.0.11", "10.244.0.13"]); // a pod replaced
    await until("a reload after a pod was replaced", () => hups() === 2);

    answer([]); // no ready pod at all: nginx keeps the addresses it has
    await quietFor(2500);
    expect(hups()).toBe(2);

    answer(["10.244.0.11", "10.244.0.13", "10.244.0.14"]); // scaled up
    await until("a reload after a scale-up", () => hups() === 3);
    expect(output).toContain("is 10.244.0.11 10.244.0.13 10.244.0.14: reloaded nginx");
  });

  it("waits for nginx's pid file instead of failing", async () => {
    writeFileSync(join(dir, "getent"), `#!/bin/bash\necho "10.244.0.11      STREAM ${NAME}"\n`);
    chmodSync(join(dir, "getent"), 0o755);
    writeFileSync(join(dir, "hups"), "");
    writeFileSync(
      join(dir, "watch.sh"),
      renderUpstreamWatcher(loadBalancer("1.22", join(dir, "nginx.pid")), { intervalSeconds: 1 }),
    );
    watcher = spawn("bash", [join(dir, "watch.sh")], {
      env: { PATH: `${dir}:${process.env.PATH}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    watcher.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    await quietFor(2500);
    expect(watcher.exitCode).toBeNull();
    nginx = spawn("bash", ["-c", `trap 'echo hup >> ${dir}/hups' HUP; while :; do sleep 0.1; done`], {
      stdio: "ignore",
    });
    writeFileSync(join(dir, "nginx.pid"), `${nginx.pid}\n`);
    await until("the reload once nginx is there", () => hups() === 1);
  });

  it("keeps a heartbeat for its probe: passing while it runs, failing when missing or stale", async () => {
    const lb = loadBalancer("1.22", join(dir, "nginx.pid"));
    const [command, ...args] = upstreamWatcherProbe(lb, { intervalSeconds: 1 });
    const probe = () => spawnSync(command!, args).status;
    expect(probe(), "no heartbeat yet").not.toBe(0);
    writeFileSync(join(dir, "getent"), `#!/bin/bash\necho "10.244.0.11      STREAM ${NAME}"\n`);
    chmodSync(join(dir, "getent"), 0o755);
    writeFileSync(join(dir, "watch.sh"), renderUpstreamWatcher(lb, { intervalSeconds: 1 }));
    watcher = spawn("bash", [join(dir, "watch.sh")], {
      env: { PATH: `${dir}:${process.env.PATH}` },
      stdio: "ignore",
    });
    await until("the probe to pass", () => probe() === 0);
    watcher.kill("SIGKILL");
    const old = Date.now() / 1000 - 60;
    utimesSync(upstreamWatcherHeartbeat(lb), old, old);
    expect(probe(), "a heartbeat a minute old").not.toBe(0);
  });
});
