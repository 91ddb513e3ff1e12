// Backups in S3 or an S3-compatible store (AWS SDK v3; multipart uploads through lib-storage).
// Objects are `<prefix><backup name>` plus `<prefix><backup name>.sha256`; the same retention as
// on disk is applied to them.
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { CHECKSUM_SUFFIX } from "./names.js";

export interface S3Settings {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

// The SDK warns once per process that releases after January 2027 need Node 22; the image runs
// Node 20 and the lockfile pins a release that supports it, so the multi-line warning would only
// break up the JSON logs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export class S3BackupStore {
  private readonly client: S3Client;

  constructor(readonly settings: S3Settings) {
    const config: S3ClientConfig = {
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      // Checksums only where S3 requires them: several S3-compatible servers reject the SDK's
      // newer default trailing checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 5,
    };
    if (settings.endpoint) config.endpoint = settings.endpoint;
    if (settings.accessKeyId && settings.secretAccessKey) {
      config.credentials = { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey };
    }
    this.client = new S3Client(config);
  }

  keyOf(name: string): string {
    return `${this.settings.prefix}${name}`;
  }

  describe(name: string): string {
    return `s3://${this.settings.bucket}/${this.keyOf(name)}`;
  }

  /** Uploads a backup and then its checksum (a backup without one is not "good"), and checks the size. */
  async upload(path: string, checksumPath: string, sha256: string): Promise<string> {
    const name = basename(path);
    const { size } = await stat(path);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.settings.bucket,
        Key: this.keyOf(name),
        Body: createReadStream(path),
        ContentType: name.endsWith(".gz") ? "application/gzip" : "application/octet-stream",
        Metadata: { sha256 },
      },
      partSize: 16 * 1024 * 1024,
      queueSize: 2,
    });
    await upload.done();
    const head = await this.client.send(
      new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.keyOf(name) }),
    );
    if (head.ContentLength !== size) {
      throw new Error(
        `${this.describe(name)} has ${head.ContentLength} bytes after the upload, expected ${size}`,
      );
    }
    await new Upload({
      client: this.client,
      params: {
        Bucket: this.settings.bucket,
        Key: this.keyOf(basename(checksumPath)),
        Body: createReadStream(checksumPath),
        ContentType: "text/plain",
      },
    }).done();
    return this.describe(name);
  }

  /** Object names directly under the prefix (no "subfolders"). */
  async list(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.settings.bucket,
          Prefix: this.settings.prefix,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const rest = object.Key?.slice(this.settings.prefix.length);
        if (rest && !rest.includes("/")) names.push(rest);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names;
  }

  async delete(name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.keyOf(name) }));
  }

  /** Downloads an object by its full key; false when it does not exist. */
  async download(key: string, path: string): Promise<boolean> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      await pipeline(object.Body as Readable, createWriteStream(path, { mode: 0o600 }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === "NoSuchKey") return false;
      throw error;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** `s3://bucket/key` → parts, or undefined for anything else. */
export function parseS3Url(source: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(source);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}

/**
 * Downloads `s3://bucket/key` (and `key.sha256` when it exists) into `dir`; returns the local paths.
 */
export async function downloadBackup(
  settings: Omit<S3Settings, "bucket" | "prefix">,
  source: { bucket: string; key: string },
  dir: string,
): Promise<{ path: string; checksumPath: string | undefined }> {
  const store = new S3BackupStore({ ...settings, bucket: source.bucket, prefix: "" });
  try {
    const path = `${dir}/${basename(source.key)}`;
    if (!(await store.download(source.key, path)))
      throw new Error(`s3://${source.bucket}/${source.key} does not exist`);
    const checksumPath = path + CHECKSUM_SUFFIX;
    const hasChecksum = await store.download(source.key + CHECKSUM_SUFFIX, checksumPath);
    return { path, checksumPath: hasChecksum ? checksumPath : undefined };
  } finally {
    store.destroy();
  }
}
