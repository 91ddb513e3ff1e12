// A Docker stack of a test's own (name, ports, settings), driven through scripts/local exactly as
// an operator types it: `up` with --set overrides and config secrets in the stack's folder, the
// other commands as they are, each returning its exit code and output. `remove` takes the stack
// down with its volumes and folder.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunResult, run } from "../../toolbox/exec";
import { stackDir } from "../../scripts/lib/stack-dir";
import { StackClient } from "../../toolbox/stack-client";
import { repoRoot } from "./paths";
import { freePort } from "../../toolbox/processes";

export class TestStack {
  readonly dir: string;
  readonly prefix: string;

  private constructor(
    readonly name: string,
    readonly ports: { http: number; https: number },
    private readonly settings: string[],
  ) {
    this.dir = stackDir(name);
    this.prefix = `chatapi-${name}`;
  }

  /** A stack named <tag><random> on free loopback ports, from Pulumi.local.yaml plus `settings`. */
  static async create(tag: string, settings: string[] = []): Promise<TestStack> {
    const ports = { http: await freePort(), https: await freePort() };
    return new TestStack(`${tag}${randomBytes(3).toString("hex")}`, ports, settings);
  }

  /** Writes a config secret where scripts/local reads it (secrets/config/<key>, mode 600). */
  setSecret(key: string, value: string): void {
    const folder = join(this.dir, "secrets", "config");
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(join(folder, key), value, { mode: 0o600 });
  }

  /** scripts/local <command> --stack <name> [args]; never throws on the exit code. */
  local(command: string, args: string[] = [], timeoutMs = 900_000): Promise<RunResult> {
    return run("bash", [join(repoRoot, "scripts", "local"), command, "--stack", this.name, ...args], {
      reject: false,
      timeout: timeoutMs,
    });
  }

  /** scripts/local up with this stack's file, ports and settings (plus `more`), and `flags`. */
  up(more: string[] = [], flags: string[] = []): Promise<RunResult> {
    const sets = [
      `nginx.httpPort=${this.ports.http}`,
      `nginx.httpsPort=${this.ports.https}`,
      ...this.settings,
      ...more,
    ].flatMap((s) => ["--set", s]);
    return this.local("up", ["--skip-setup", "--stack-file", "local", ...sets, ...flags]);
  }

  /** Like up, but a failure throws with the command's output. */
  async upOrThrow(more: string[] = [], flags: string[] = []): Promise<RunResult> {
    const result = await this.up(more, flags);
    if (result.exitCode !== 0)
      throw new Error(`scripts/local up --stack ${this.name} failed:\n${result.all.slice(-6000)}`);
    return result;
  }

  adminKey(): string {
    return readFileSync(join(this.dir, "secrets", "admin_api_key"), "utf8").trim();
  }

  /** A chat client through the stack's nginx (TLS verified against its CA). */
  chat(): StackClient {
    return new StackClient({
      url: `https://127.0.0.1:${this.ports.https}`,
      domain: "localhost",
      ca: readFileSync(join(this.dir, "ca.pem"), "utf8"),
    });
  }

  async remove(): Promise<void> {
    const down = await this.local("down", ["--volumes"], 300_000);
    if (down.exitCode !== 0) console.error(`scripts/local down --stack ${this.name}:\n${down.all}`);
  }
}
