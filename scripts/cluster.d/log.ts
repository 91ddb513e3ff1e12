// What scripts/cluster prints: "[cluster] ..." lines on stderr, each step timed.
export class ClusterError extends Error {
  override name = "ClusterError";
}

/** Stops the command with a one-line error (main prints it as "[cluster] error: ..."). */
export function die(message: string): never {
  throw new ClusterError(message);
}

export const say = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

export const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

let current: { name: string; started: number } | undefined;

/** Starts a named step (ending the one before): "-> name ..." now, "done: name (1.2s)" at its end. */
export function step(name: string): void {
  stepEnd();
  current = { name, started: performance.now() };
  say(`-> ${name} ...`);
}

export function stepEnd(): void {
  if (current) say(`   done: ${current.name} (${seconds(current.started)})`);
  current = undefined;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls a check every 250 ms until it passes; dies naming what never came. */
export async function waitFor(
  secondsAllowed: number,
  what: string,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = performance.now() + secondsAllowed * 1000;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  die(`timed out after ${secondsAllowed}s waiting for ${what}`);
}

export function needRoot(): void {
  if (process.getuid?.() !== 0) die("must run as root (containerd, kubelet and iptables need it)");
}
