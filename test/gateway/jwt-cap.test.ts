/**
 * The per-identity in-flight cap holds for JWT callers as for API keys (real HAProxy 2.6): one token subject
 * cannot take more than `keyMaxInFlight` requests in flight; another subject of the same issuer is not affected.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { call, endpoint, hookBody, startGateway, type Gateway } from "./harness.ts";

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

describe("JWT identities have an in-flight cap (real HAProxy)", () => {
  let gw: Gateway;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const token = (sub: string | undefined): string => {
    const payload = { iss: "https://issuer.test", aud: "serving", endpoint: "iris", exp: Math.floor(Date.now() / 1000) + 60, ...(sub !== undefined ? { sub } : {}) };
    const data = `${b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))}.${b64url(JSON.stringify(payload))}`;
    return `${data}.${b64url(sign("sha256", Buffer.from(data), rsa.privateKey))}`;
  };

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "apgw-"));
    await writeFile(join(dir, "rs.pem"), rsa.publicKey.export({ type: "spki", format: "pem" }));
    gw = await startGateway({
      dir,
      endpoints: [endpoint("iris", { auth: { apiKeys: true, jwt: true }, targetConcurrency: 16 })],
      jwtIssuers: [{ alg: "RS256", publicKeyPath: join(dir, "rs.pem"), issuer: "https://issuer.test", audience: "serving" }],
      settings: { keyMaxInFlight: 2 },
    });
    await gw.addPod("iris");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  const P = "/serving-endpoints/iris/invocations";

  it("a third request of one subject while two are in flight → 429; another subject → 200", async () => {
    const alice = token("alice");
    const slow = [call(gw.publicPort, P, { key: alice, body: hookBody({ sleep_ms: 600 }) }), call(gw.publicPort, P, { key: alice, body: hookBody({ sleep_ms: 600 }) })];
    await new Promise((r) => setTimeout(r, 200));
    const third = await call(gw.publicPort, P, { key: alice });
    assert.equal(third.status, 429, third.body);
    assert.match(JSON.parse(third.body).message, /in flight \(limit 2\)/);
    assert.equal(third.headers["retry-after"], "1");
    const bob = await call(gw.publicPort, P, { key: token("bob") });
    assert.equal(bob.status, 200, bob.body);
    assert.deepEqual((await Promise.all(slow)).map((r) => r.status), [200, 200]);
    // The slots are released: alice may call again.
    assert.equal((await call(gw.publicPort, P, { key: alice })).status, 200);
  });
});
