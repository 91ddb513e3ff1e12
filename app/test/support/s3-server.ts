// A private S3-compatible server (Versity S3 Gateway over a temporary directory, built by
// scripts/setup) on a random port of loopback (or of the address given, e.g. a bridge that
// containers or pods reach), with its own credentials.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { freePort } from "./redis-server.js";
import { required } from "./services.js";

export class PrivateS3 {
  readonly accessKeyId = `test${randomBytes(6).toString("hex")}`;
  readonly secretAccessKey = randomBytes(20).toString("hex");
  private readonly dir = mkdtempSync(join(tmpdir(), "chatapi-s3-"));
  private child: ChildProcess | undefined;
  readonly output: string[] = [];

  private constructor(
    readonly port: number,
    readonly host: string,
  ) {}

  get endpoint(): string {
    return `http://${this.host}:${this.port}`;
  }

  static async start(host = "127.0.0.1"): Promise<PrivateS3> {
    const binary = required("CHATAPI_TEST_VERSITYGW");
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run scripts/setup (it builds versitygw)`);
    const server = new PrivateS3(await freePort(), host);
    server.child = spawn(binary, ["--port", `${host}:${server.port}`, "--quiet", "posix", server.dir], {
      env: { ROOT_ACCESS_KEY: server.accessKeyId, ROOT_SECRET_KEY: server.secretAccessKey },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.child.stdout!.on("data", (c: Buffer) => server.output.push(c.toString()));
    server.child.stderr!.on("data", (c: Buffer) => server.output.push(c.toString()));
    const deadline = Date.now() + 20_000;
    while (!(await portOpen(host, server.port))) {
      if (server.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`versitygw did not start:\n${server.output.join("")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return server;
  }

  client(): S3Client {
    return new S3Client({
      region: "us-east-1",
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async createBucket(name: string): Promise<void> {
    const client = this.client();
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      client.destroy();
    }
  }

  /** Environment for `chatapi backup/restore` using this server. */
  env(bucket: string, prefix: string): Record<string, string> {
    return {
      BACKUP_S3_BUCKET: bucket,
      BACKUP_S3_PREFIX: prefix,
      BACKUP_S3_ENDPOINT: this.endpoint,
      BACKUP_S3_REGION: "us-east-1",
      BACKUP_S3_FORCE_PATH_STYLE: "true",
      BACKUP_S3_ACCESS_KEY_ID: this.accessKeyId,
      BACKUP_S3_SECRET_ACCESS_KEY: this.secretAccessKey,
    };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
