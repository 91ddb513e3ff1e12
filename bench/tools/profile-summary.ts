// Prints the hottest functions of a V8 .cpuprofile (from node --cpu-prof): self time and
// total (inclusive) time, and writes a collapsed-stack file beside it for flame graph tools
// (flamegraph.pl, speedscope, inferno). Usage: npx tsx bench/tools/profile-summary.ts FILE [N]
import { readFileSync, writeFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary.ts FILE.cpuprofile [top N]");
const top = Number(topText ?? 30);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^file:\/\//, "").replace(/.*node_modules\//, "~/");
  const short = url.split("/").slice(-2).join("/");
  return `${n.callFrame.functionName || "(anonymous)"} ${short}:${n.callFrame.lineNumber + 1}`;
};

const self = new Map<string, number>();
const total = new Map<string, number>();
const stacks = new Map<string, number>();
let all = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  all += us;
  const node = byId.get(id)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  const frames: string[] = [];
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    frames.push(l);
    if (!seen.has(l)) total.set(l, (total.get(l) ?? 0) + us);
    seen.add(l);
  }
  const key = frames.reverse().join(";");
  stacks.set(key, (stacks.get(key) ?? 0) + us);
});

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (of ${(all / 1e6).toFixed(2)} s sampled)`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / all).toFixed(1).padStart(5)}%  ${name}`);
  }
};
print("self time", self);
print("total time", total);
writeFileSync(`${file}.folded`, [...stacks].map(([k, v]) => `${k} ${Math.round(v)}`).join("\n") + "\n");
console.log(`\ncollapsed stacks: ${file}.folded`);
