/**
 * `npx autopilot` as a process (controller/src/cli/autopilot.mjs): --help on every command, usage errors, `models push` of the
 * shipped example into moto's S3-compatible server (digest printed = the manifest coreutils makes; a second push is
 * unchanged; AWS CLI v2 reads it back), `invoke` against an HTTP TEST DOUBLE of the gateway (path, key, body,
 * error status), and the exit codes docs/models.md lists.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { endpointRows, formatTable } from "../../controller/src/cli/endpoint-table.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { startS3Server, type S3Server } from "../gateway/s3-server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = join(ROOT, "controller", "src", "cli", "autopilot.mjs");

function cli(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The same, without blocking this process (its HTTP test double must answer meanwhile). */
function cliAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (err += d));
    c.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

function coreutilsDigest(dir: string): string {
  const manifest = execFileSync("/bin/sh", ["-c", "find . -type f | sed 's|^\\./||' | LC_ALL=C sort | while IFS= read -r f; do sha256sum \"$f\"; done"], { cwd: dir, encoding: "utf8" });
  return `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
}

describe("npx autopilot", () => {
  it("--help on every command (exit 0); an unknown command or a missing option is a usage error (exit 2)", () => {
    for (const args of [["--help"], ["models", "--help"], ["models", "push", "--help"], ["invoke", "--help"], ["endpoints", "--help"]]) {
      const r = cli(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.err}`);
      assert.match(r.out, /Usage: autopilot/);
    }
    const unknown = cli(["deploy"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'deploy'/);
    const missing = cli(["models", "push", "examples/models/iris-sklearn"]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /required option '--endpoint <name>' not specified/);
  });

  describe("models push (moto on loopback)", () => {
    let s3: S3Server;
    let home = "";
    const env = () => ({ AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_ENDPOINT_URL: s3.endpoint, AUTOPILOT_MODEL_STORE: "s3://models", AUTOPILOT_MODEL_CACHE: join(home, "cache"), HOME: home });
    before(async () => {
      s3 = await startS3Server();
      await s3.createBucket("models");
      home = mkdtempSync(join(tmpdir(), "cli-push-"));
    });
    after(async () => {
      await s3?.stop();
      if (home !== "") rmSync(home, { recursive: true, force: true });
    });

    it("publishes the directory and prints its digest; a second push is unchanged; the AWS CLI reads it back", { timeout: 180_000 }, () => {
      const want = coreutilsDigest(join(ROOT, "examples/models/iris-sklearn"));
      const r = cli(["models", "push", "examples/models/iris-sklearn", "--endpoint", "fraud", "--version", "v3"], env());
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^published fraud\/v3 \(sklearn, from .*iris-sklearn\) at s3:\/\/models\/fraud\/v3\/: 7 files, \d+ bytes uploaded\n/);
      assert.equal(r.out.trim().split("\n").pop(), want);
      const again = cli(["models", "push", "examples/models/iris-sklearn", "--endpoint", "fraud", "--version", "v3", "--json"], env());
      assert.equal(again.code, 0, again.err);
      assert.deepEqual((({ unchanged, uploadedFiles, digest }) => ({ unchanged, uploadedFiles, digest }))(JSON.parse(again.out)), { unchanged: true, uploadedFiles: 0, digest: want });
      const got = join(home, "got");
      execFileSync("/usr/bin/aws", ["--endpoint-url", s3.endpoint, "s3", "cp", "--recursive", "--only-show-errors", "s3://models/fraud/v3/", got], { env: { ...process.env, ...env() } });
      execFileSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: got });
    });

    it("refusals name what is wrong: bad reference, bad endpoint, no store (exit 3); unreachable store (exit 4)", { timeout: 120_000 }, () => {
      const cases: [string[], Record<string, string>, number, RegExp][] = [
        [["models", "push", "hf://x/y", "--endpoint", "fraud"], {}, 3, /"hf:\/\/x\/y": the scheme "hf:" is not supported; allowed: models:\/<name>\/<version>/],
        [["models", "push", "examples/models/iris-sklearn", "--endpoint", "Fraud_1"], {}, 3, /--endpoint "Fraud_1": an endpoint name/],
        [["models", "push", "examples/models/iris-sklearn", "--endpoint", "fraud"], { AUTOPILOT_MODEL_STORE: "" }, 3, /--store "": the environment's model bucket as s3:\/\/<bucket> or gs:\/\/<bucket>/],
        [["models", "push", "examples/models", "--endpoint", "fraud"], {}, 3, /has no MLmodel file/],
        [["models", "push", "models:/iris@champion", "--endpoint", "fraud"], { MLFLOW_TRACKING_URI: "" }, 3, /no MLflow tracking server is configured/],
        [["models", "push", "examples/models/iris-onnx", "--endpoint", "fraud"], { AWS_ENDPOINT_URL: "http://127.0.0.1:9" }, 4, /on s3:\/\/models at http:\/\/127\.0\.0\.1:9 failed/],
      ];
      for (const [args, extra, code, re] of cases) {
        const r = cli(args, { ...env(), ...extra });
        assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
        assert.match(r.err, re);
      }
    });
  });

  describe("invoke (HTTP TEST DOUBLE of the gateway)", () => {
    let server: Server;
    let url = "";
    const seen: { path: string; auth: string; type: string; body: string }[] = [];
    before(async () => {
      server = createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          seen.push({ path: req.url ?? "", auth: req.headers.authorization ?? "", type: req.headers["content-type"] ?? "", body });
          if (req.headers.authorization !== "Bearer k1") {
            res.writeHead(401, { "content-type": "application/json" }).end('{"error_code":"UNAUTHENTICATED","message":"invalid API key"}');
          } else res.writeHead(200, { "content-type": "application/json" }).end('{"predictions":[0]}');
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => server?.close());

    it("posts the body to /serving-endpoints/<name>/invocations with the key; a file; an error status exits 5", { timeout: 240_000 }, async () => {
      const ok = await cliAsync(["invoke", "iris", "--data", '{"inputs":[[1,2,3,4]]}', "--gateway", url], { AUTOPILOT_API_KEY: "k1" });
      assert.equal(ok.code, 0, ok.err);
      assert.equal(ok.out, '{"predictions":[0]}\n');
      assert.deepEqual(seen.at(-1), { path: "/serving-endpoints/iris/invocations", auth: "Bearer k1", type: "application/json", body: '{"inputs":[[1,2,3,4]]}' });
      const file = join(mkdtempSync(join(tmpdir(), "cli-invoke-")), "rows.csv");
      writeFileSync(file, "a,b\n1,2\n");
      assert.equal((await cliAsync(["invoke", "iris", "--data", file], { AUTOPILOT_API_KEY: "k1", AUTOPILOT_GATEWAY_URL: url })).code, 0);
      assert.equal(seen.at(-1)?.type, "text/csv");
      const denied = await cliAsync(["invoke", "iris", "--data", "{}", "--gateway", url], { AUTOPILOT_API_KEY: "wrong" });
      assert.equal(denied.code, 5);
      assert.match(denied.out, /invalid API key/);
      assert.match(denied.err, /iris answered HTTP 401/);
      const noKey = await cliAsync(["invoke", "iris", "--data", "{}", "--gateway", url], { AUTOPILOT_API_KEY: "" });
      assert.equal(noKey.code, 3);
      assert.match(noKey.err, /AUTOPILOT_API_KEY is not set/);
      const badJson = await cliAsync(["invoke", "iris", "--data", "{nope", "--gateway", url], { AUTOPILOT_API_KEY: "k1" });
      assert.equal(badJson.code, 3);
      assert.match(badJson.err, /--data: not valid JSON/);
      const gone = await cliAsync(["invoke", "iris", "--data", "{}", "--gateway", `http://127.0.0.1:${await freePort()}`], { AUTOPILOT_API_KEY: "k1" });
      assert.equal(gone.code, 4);
      assert.match(gone.err, /the gateway is unreachable \(ECONNREFUSED\)/);
    });
  });

  it("endpoints without any kubeconfig says which files it looked for and the flag (exit 3), not localhost:8080", () => {
    const home = mkdtempSync(join(tmpdir(), "autopilot-home-"));
    try {
      const r = cli(["endpoints"], { HOME: home, KUBECONFIG: "", KUBERNETES_SERVICE_HOST: "" });
      assert.equal(r.code, 3, r.err);
      assert.equal(r.err, `autopilot: no kubeconfig: KUBECONFIG is not set and ${join(home, ".kube", "config")} does not exist; pass --kubeconfig <file> (e.g. pulumi stack output kubeconfig --show-secrets > kubeconfig)\n`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("endpoint table: rows sorted, dashes for unknown status, traffic split", () => {
    const t = formatTable(endpointRows([
      { apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", metadata: { name: "b", namespace: "ep-b" }, spec: { model: { uri: "s3://m/b/v1/", flavor: "sklearn" }, runtime: { kind: "mlflow" }, computePool: "cpu", concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 4 }, trafficSplit: [{ version: "v1", modelUri: "s3://m/b/v1/", weight: 90 }, { version: "v2", modelUri: "s3://m/b/v2/", weight: 10 }] }, status: { readyReplicas: 2, desiredReplicas: 3, targetConcurrency: 6, observedQps: 41.26 } },
      { apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", metadata: { name: "a", namespace: "ep-a" }, spec: { model: { uri: "s3://m/a/v1/", flavor: "onnx" }, computePool: "cpu", concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 4 } } },
    ]));
    assert.equal(t, [
      "NAMESPACE  NAME  RUNTIME  READY  DESIRED  TARGET-CONCURRENCY  QPS   TRAFFIC",
      "ep-a       a     auto     -      -        -                   -     -",
      "ep-b       b     mlflow   2      3        6                   41.3  v1:90%,v2:10%",
      "",
    ].join("\n"));
  });
});
