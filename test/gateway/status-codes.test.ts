/**
 * Every status code the gateway answers, against real HAProxy 2.6 on 127.0.0.1 driven by the real agent.
 */
import { parseRequestLine } from "../../controller/src/gateway/request-log.ts";
import assert from "node:assert/strict";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { API_KEY, call, endpoint, hookBody, OTHER_KEY, startGateway, type Gateway } from "./harness.ts";

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

function jwt(alg: "RS256" | "ES256", key: KeyObject, payload: Record<string, unknown>): string {
  const data = `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(payload))}`;
  const sig = alg === "RS256" ? sign("sha256", Buffer.from(data), key) : sign("sha256", Buffer.from(data), { key, dsaEncoding: "ieee-p1363" });
  return `${data}.${b64url(sig)}`;
}

describe("gateway status codes (real HAProxy)", () => {
  let gw: Gateway;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const now = (): number => Math.floor(Date.now() / 1000);

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "apgw-"));
    await writeFile(join(dir, "rs.pem"), rsa.publicKey.export({ type: "spki", format: "pem" }));
    await writeFile(join(dir, "es.pem"), ec.publicKey.export({ type: "spki", format: "pem" }));
    gw = await startGateway({
      dir,
      endpoints: [
        endpoint("iris", { auth: { apiKeys: true, jwt: true }, maxBodyBytes: 1000 }),
        endpoint("slow", { targetConcurrency: 1, queueTimeoutMs: 400, maxQueue: 2, modelTimeoutMs: 600 }),
        endpoint("empty"),
        endpoint("other"),
        endpoint("llm", { runtime: "vllm" }),
        endpoint("jwtonly", { auth: { apiKeys: false, jwt: true } }),
      ],
      jwtIssuers: [
        { alg: "RS256", publicKeyPath: join(dir, "rs.pem"), issuer: "https://issuer.test", audience: "serving" },
        { alg: "ES256", publicKeyPath: join(dir, "es.pem"), issuer: "https://es.issuer.test", audience: "serving" },
      ],
    });
    await gw.addPod("iris");
    await gw.addPod("slow");
    await gw.addPod("other");
    await gw.addPod("llm");
    await gw.addPod("jwtonly");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  const p = (ep: string, route = "invocations"): string => `/serving-endpoints/${ep}/${route}`;

  it("200: valid API key; request id returned; credentials stripped before the pod; path rewritten", async () => {
    const r = await call(gw.publicPort, p("iris"), { body: hookBody({ echo: true }), headers: { "x-request-id": "abc-123" } });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-request-id"], "abc-123");
    const body = JSON.parse(r.body);
    assert.deepEqual(body.predictions, [1]);
    assert.equal(body.path, "/invocations");
    assert.equal(body.headers.authorization, undefined);
    assert.equal(body.headers["x-request-id"], "abc-123");
    const r2 = await call(gw.publicPort, p("iris"));
    assert.match(String(r2.headers["x-request-id"]), /^[0-9A-Fa-f:._]+/);
  });

  const cases: Array<{ name: string; path: string; opts: Parameters<typeof call>[2]; status: number; code: string; message?: RegExp }> = [
    { name: "401 no credentials", path: p("iris"), opts: { key: null }, status: 401, code: "UNAUTHENTICATED", message: /missing credentials/ },
    { name: "401 unknown API key", path: p("iris"), opts: { key: "nope" }, status: 401, code: "UNAUTHENTICATED", message: /invalid API key/ },
    { name: "403 key of another endpoint", path: p("iris"), opts: { key: OTHER_KEY }, status: 403, code: "PERMISSION_DENIED", message: /k-other may not call endpoint iris/ },
    { name: "401 endpoint takes tokens only", path: p("jwtonly"), opts: {}, status: 401, code: "UNAUTHENTICATED", message: /does not accept API keys/ },
    { name: "404 unknown endpoint", path: p("nosuch"), opts: {}, status: 404, code: "ENDPOINT_NOT_FOUND", message: /endpoint nosuch does not exist/ },
    { name: "404 unknown path", path: "/v2/whatever", opts: {}, status: 404, code: "ENDPOINT_NOT_FOUND" },
    { name: "404 OpenAI route on a non-LLM endpoint", path: p("iris", "v1/chat/completions"), opts: {}, status: 404, code: "ENDPOINT_NOT_FOUND", message: /has no route v1\/chat\/completions/ },
    { name: "404 metrics not reachable on the public port", path: "/metrics", opts: { method: "GET" }, status: 404, code: "ENDPOINT_NOT_FOUND" },
    { name: "405 GET on invocations", path: p("iris"), opts: { method: "GET" }, status: 405, code: "METHOD_NOT_ALLOWED", message: /method GET is not allowed/ },
    { name: "405 unknown method", path: p("iris"), opts: { method: "BREW" }, status: 405, code: "METHOD_NOT_ALLOWED" },
    { name: "413 body over the endpoint limit", path: p("iris"), opts: { body: JSON.stringify({ inputs: "x".repeat(2000) }) }, status: 413, code: "PAYLOAD_TOO_LARGE", message: /over the limit of 1000 bytes/ },
    { name: "503 no ready pod", path: p("empty"), opts: {}, status: 503, code: "NO_READY_POD" },
    { name: "504 model timeout", path: p("slow"), opts: { body: hookBody({ sleep_ms: 1500 }) }, status: 504, code: "MODEL_TIMEOUT" },
    { name: "pod's own 503 passes through unchanged", path: p("iris"), opts: { body: hookBody({ status: 503 }) }, status: 503, code: "MODEL_ERROR" },
    { name: "pod's own 429 passes through unchanged", path: p("iris"), opts: { body: hookBody({ status: 429 }) }, status: 429, code: "MODEL_ERROR" },
    { name: "pod's 400 for a bad body passes through", path: p("iris"), opts: { body: '{"nope":1}' }, status: 400, code: "BAD_REQUEST", message: /exactly one of the keys/ },
    { name: "pod's 415 for a wrong content type passes through", path: p("iris"), opts: { headers: { "content-type": "text/xml" }, body: "<x/>" }, status: 415, code: "UNSUPPORTED_MEDIA_TYPE" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await call(gw.publicPort, c.path, c.opts);
      assert.equal(r.status, c.status, r.body);
      const body = JSON.parse(r.body);
      // OpenAI-compatible routes answer OpenAI's error shape, the others the platform's.
      const error = c.path.includes("/v1/") ? body.error : body;
      assert.equal(c.path.includes("/v1/") ? error.code : error.error_code, c.code, r.body);
      if (c.message) assert.match(error.message, c.message);
    });
  }

  it("OpenAI-compatible routes of an LLM endpoint are rewritten to the runtime's paths", async () => {
    // The example model server has no OpenAI routes: its own 404 names the rewritten path.
    for (const [route, native] of [["v1/chat/completions", "/v1/chat/completions"], ["v1/embeddings", "/v1/embeddings"], ["v1/completions", "/v1/completions"]]) {
      const r = await call(gw.publicPort, p("llm", route as string));
      assert.equal(r.status, 404);
      assert.equal(JSON.parse(r.body).message, `no route ${native}`);
    }
    // vLLM's own /invocations dispatches on the body; the example server answers it.
    const inv = await call(gw.publicPort, p("llm"));
    assert.equal(inv.status, 200, inv.body);
  });

  it("429 at once when the queue bound is reached; 429 after the queue timeout; both with Retry-After", async () => {
    const slow = hookBody({ sleep_ms: 550 });
    const all = await Promise.all(Array.from({ length: 5 }, () => call(gw.publicPort, p("slow"), { body: slow })));
    const byStatus = all.map((r) => r.status).sort();
    // 1 runs (maxconn 1), 2 wait (maxQueue 2) and time out at 400 ms, 2 are refused at once.
    assert.deepEqual(byStatus, [200, 429, 429, 429, 429]);
    const rejected = all.filter((r) => r.status === 429);
    for (const r of rejected) {
      assert.equal(r.headers["retry-after"], "1");
      assert.equal(JSON.parse(r.body).error_code, "REQUEST_LIMIT_EXCEEDED");
    }
    const fast = rejected.filter((r) => r.ms < 200);
    const timedOut = rejected.filter((r) => r.ms >= 380 && r.ms < 700);
    assert.equal(fast.length, 2, `immediate 429s: ${rejected.map((r) => r.ms.toFixed(0))}`);
    assert.equal(timedOut.length, 2, `queue-timeout 429s: ${rejected.map((r) => r.ms.toFixed(0))}`);
  });

  describe("JWT", () => {
    const claims = (o: Record<string, unknown> = {}) => ({ iss: "https://issuer.test", aud: "serving", endpoint: "iris", exp: now() + 60, ...o });
    const es = (o: Record<string, unknown> = {}) => claims({ iss: "https://es.issuer.test", ...o });
    const header = (alg: "RS256" | "ES256", key: KeyObject, extra: Record<string, unknown>, payload: Record<string, unknown>): string => {
      const data = `${b64url(JSON.stringify({ alg, typ: "JWT", ...extra }))}.${b64url(JSON.stringify(payload))}`;
      return `${data}.${b64url(sign("sha256", Buffer.from(data), key))}`;
    };
    const jcases: Array<{ name: string; token: () => string; path?: string; status: number; message?: RegExp }> = [
      { name: "RS256 valid → 200", token: () => jwt("RS256", rsa.privateKey, claims()), status: 200 },
      { name: "ES256 valid → 200", token: () => jwt("ES256", ec.privateKey, es()), status: 200 },
      { name: "ES256 with another issuer's iss → 401", token: () => jwt("ES256", ec.privateKey, es({ iss: "https://evil.test" })), status: 401, message: /invalid token/ },
      { name: "ES256 without iss → 401", token: () => jwt("ES256", ec.privateKey, es({ iss: undefined })), status: 401, message: /invalid token/ },
      { name: "no aud → 401", token: () => jwt("RS256", rsa.privateKey, claims({ aud: undefined })), status: 401, message: /invalid token/ },
      { name: "wrong aud → 401", token: () => jwt("RS256", rsa.privateKey, claims({ aud: "other" })), status: 401, message: /invalid token/ },
      { name: "array aud holding the audience → 200", token: () => jwt("RS256", rsa.privateKey, claims({ aud: ["billing", "serving"] })), status: 200 },
      { name: "array aud without the audience → 401", token: () => jwt("RS256", rsa.privateKey, claims({ aud: ["billing", "other"] })), status: 401, message: /invalid token/ },
      { name: "nbf in the future → 401", token: () => jwt("RS256", rsa.privateKey, claims({ nbf: now() + 600 })), status: 401, message: /not valid yet/ },
      { name: "nbf in the past → 200", token: () => jwt("RS256", rsa.privateKey, claims({ nbf: now() - 10 })), status: 200 },
      { name: "iat in the future → 401", token: () => jwt("RS256", rsa.privateKey, claims({ iat: now() + 600 })), status: 401, message: /issued in the future/ },
      { name: "iat a few seconds ahead (clock skew) → 200", token: () => jwt("RS256", rsa.privateKey, claims({ iat: now() + 5 })), status: 200 },
      { name: "crit header → 401", token: () => header("RS256", rsa.privateKey, { crit: ["exp"], exp: 1 }, claims()), status: 401, message: /crit/ },
      { name: "expired → 401", token: () => jwt("RS256", rsa.privateKey, claims({ exp: now() - 5 })), status: 401, message: /expired/ },
      { name: "no exp → 401", token: () => jwt("RS256", rsa.privateKey, claims({ exp: undefined })), status: 401, message: /expired or has no exp/ },
      { name: "other endpoint claim → 403", token: () => jwt("RS256", rsa.privateKey, claims({ endpoint: "other" })), status: 403, message: /not valid for endpoint iris/ },
      { name: "wrong signing key → 401", token: () => jwt("RS256", otherRsa.privateKey, claims()), status: 401, message: /invalid token/ },
      { name: "wrong issuer → 401", token: () => jwt("RS256", rsa.privateKey, claims({ iss: "https://evil.test" })), status: 401, message: /invalid token/ },
      { name: "endpoint without JWT auth → 401", token: () => jwt("RS256", rsa.privateKey, claims({ endpoint: "other" })), path: p("other"), status: 401, message: /does not accept tokens/ },
      { name: "JWT-only endpoint → 200", token: () => jwt("ES256", ec.privateKey, es({ endpoint: "jwtonly" })), path: p("jwtonly"), status: 200 },
    ];
    for (const c of jcases) {
      it(c.name, async () => {
        const r = await call(gw.publicPort, c.path ?? p("iris"), { key: c.token() });
        assert.equal(r.status, c.status, r.body);
        if (c.message) assert.match(JSON.parse(r.body).message, c.message);
      });
    }
  });

  it("API keys are updated live (add, revoke) without a reload", async () => {
    const { hashApiKey } = await import("../../controller/src/local/local-source.ts");
    const pid = (await gw.api.send("show info")).match(/Pid: (\d+)/)?.[1];
    gw.source.setApiKeys([...gw.source.current().apiKeys, { id: "k-new", sha256: hashApiKey("fresh"), endpoints: ["iris"] }]);
    await gw.agent.cycle();
    assert.equal((await call(gw.publicPort, p("iris"), { key: "fresh" })).status, 200);
    gw.source.setApiKeys(gw.source.current().apiKeys.filter((k) => k.id !== "k-new"));
    await gw.agent.cycle();
    assert.equal((await call(gw.publicPort, p("iris"), { key: "fresh" })).status, 401);
    assert.equal((await gw.api.send("show info")).match(/Pid: (\d+)/)?.[1], pid, "no reload happened");
  });

  it("Prometheus exporter answers on its own port", async () => {
    const r = await call(gw.metricsPort, "/metrics?scope=backend", { method: "GET", key: null });
    assert.equal(r.status, 200);
    assert.match(r.body, /haproxy_backend_current_queue\{proxy="be_iris"\}/);
  });

  it("access log has endpoint, status, queue and service times", async () => {
    await call(gw.publicPort, p("iris"), { headers: { "x-request-id": "log-probe-1" } });
    await new Promise((r) => setTimeout(r, 100));
    const line = gw.lines.find((l) => l.includes(" log-probe-1 "));
    assert.ok(line, `no access log line in:\n${gw.lines.slice(-5).join("\n")}`);
    const r = parseRequestLine(line);
    assert.ok(r, `not a request line: ${line}`);
    assert.deepEqual(
      { ep: r.endpoint, key: r.keyId, method: r.method, route: r.route, status: r.status, backend: r.backend },
      { ep: "iris", key: "k-iris", method: "POST", route: "invocations", status: 200, backend: "be_iris" },
    );
    assert.match(r.server ?? "", /^pod\d+$/);
    assert.ok(r.queueMs >= 0 && r.connectMs >= 0 && r.responseMs >= 0 && r.activeMs >= 0, line);
  });

  void API_KEY;
});
