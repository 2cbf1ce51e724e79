/**
 * A real S3-compatible server for the rendered download scripts: moto's standalone server (`moto_server`, from
 * the repository's Python virtualenv) inside a network namespace, listening on the address and port the program
 * renders (the in-cluster MinIO URL), plus Debian's AWS CLI v2 (/usr/bin/aws) to publish model versions in the
 * cache layout: `<endpoint>/<version>/<files>` beside a `SHA256SUMS` manifest whose sha256 is the version digest.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { ChildProcess } from "node:child_process";
import { requirePythonEnv } from "../../tools/python/venv.ts";
import { NetNs } from "./pod-sandbox.ts";

/** Debian's AWS CLI v2 (the `aws` first on some PATHs is a v1 shim). */
export const AWS_CLI = "/usr/bin/aws";

/** Files of a model version and their manifest. */
export interface ModelVersionFiles {
  readonly files: Readonly<Record<string, string | Buffer>>;
  readonly manifest: string;
  /** `sha256:` + sha256 of the manifest. */
  readonly digest: string;
}

/** Builds a version's manifest in `sha256sum` format. */
export function modelVersion(files: Readonly<Record<string, string | Buffer>>): ModelVersionFiles {
  const manifest = Object.keys(files).sort().map((f) => `${createHash("sha256").update(files[f]!).digest("hex")}  ${f}\n`).join("");
  return { files, manifest, digest: `sha256:${createHash("sha256").update(manifest).digest("hex")}` };
}

export class S3Fixture {
  readonly ns: NetNs;
  private server?: ChildProcess;
  private readonly env: NodeJS.ProcessEnv;

  readonly host: string;
  readonly port: number;
  readonly serviceUrls: readonly string[];

  /** `serviceUrls`: URLs clients use besides host:port (moto would read their host name as a virtual-hosted bucket). */
  constructor(host: string, port: number, addresses: readonly string[] = [], serviceUrls: readonly string[] = []) {
    this.host = host;
    this.port = port;
    this.serviceUrls = serviceUrls;
    this.ns = new NetNs(addresses);
    this.env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", AWS_ACCESS_KEY_ID: "publisher", AWS_SECRET_ACCESS_KEY: "publisher-secret", AWS_REGION: "us-east-1", HOME: mkdtempSync("/tmp/s3fixture-home-") };
  }

  async start(): Promise<void> {
    const py = requirePythonEnv();
    this.server = this.ns.spawn([py.bin("moto_server"), "-H", this.host, "-p", String(this.port)], { ...process.env, MOTO_S3_CUSTOM_ENDPOINTS: this.serviceUrls.join(",") });
    for (let i = 0; i < 100; i++) {
      try {
        this.aws(["s3api", "list-buckets"]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error("moto_server did not start");
  }

  /** Runs Debian's AWS CLI against the server, inside the namespace. */
  aws(args: readonly string[]): string {
    return this.ns.exec([AWS_CLI, "--endpoint-url", `http://${this.host}:${this.port}`, ...args], this.env);
  }

  createBucket(bucket: string): void {
    this.aws(["s3api", "create-bucket", "--bucket", bucket]);
    this.aws(["s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled"]);
  }

  /** Uploads a version (files, and the manifest unless `withManifest` is false) under `prefix`. */
  publish(bucket: string, prefix: string, v: ModelVersionFiles, scratch: string, opts: { withManifest?: boolean; extra?: Record<string, string> } = {}): void {
    const dir = mkdtempSync(path.join(scratch, "publish-"));
    const all: Record<string, string | Buffer> = { ...v.files, ...(opts.extra ?? {}), ...(opts.withManifest === false ? {} : { SHA256SUMS: v.manifest }) };
    for (const [f, content] of Object.entries(all)) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), content);
    }
    this.aws(["s3", "cp", "--recursive", "--only-show-errors", dir, `s3://${bucket}/${prefix}`]);
  }

  /** Overwrites one object (a tampered file). */
  put(bucket: string, key: string, content: string, scratch: string): void {
    const f = path.join(mkdtempSync(path.join(scratch, "put-")), "obj");
    writeFileSync(f, content);
    this.aws(["s3", "cp", "--only-show-errors", f, `s3://${bucket}/${key}`]);
  }

  close(): void {
    if (this.server?.pid !== undefined) {
      try {
        process.kill(-this.server.pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    this.ns.close();
  }
}
