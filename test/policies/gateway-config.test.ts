/** Policy 8 against the gateway's real renderer (controller/src/gateway/render-config.ts), not a hand-written config. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderConfig } from "../../controller/src/gateway/render-config.ts";
import type { GatewayEndpoint, GatewaySettings } from "../../controller/src/gateway/types.ts";
import { violations } from "./harness.ts";
import type { OfflineResource } from "../../policies/offline/run-pack.ts";

const settings: GatewaySettings = {
  bindAddress: "0.0.0.0", publicPort: 8443, metricsPort: 8405, statsSocketPath: "/var/run/haproxy/admin.sock",
  apiKeyMapPath: "/etc/haproxy/auth/api-keys.map", gatewayReplicas: 2,
  jwtIssuers: [{ alg: "RS256", issuer: "https://issuer.example.com", audience: "serving", publicKeyPath: "/etc/haproxy/auth/issuer.pem" }],
};
const ep = (name: string, auth: GatewayEndpoint["auth"]): GatewayEndpoint => ({
  name, runtime: "vllm", auth, targetConcurrency: 8, slots: 8, queueTimeoutMs: 2000, maxQueue: 100, maxBodyBytes: 1_000_000, modelTimeoutMs: 60_000,
});
const configMap = (cfg: string): OfflineResource[] => [{
  type: "kubernetes:core/v1:ConfigMap", name: "gateway-haproxy-config",
  props: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "haproxy-config", namespace: "autopilot-gateway" }, data: { "haproxy.cfg": cfg } },
}];

describe("gateway-requires-auth on the rendered haproxy.cfg", () => {
  const cfg = renderConfig({ settings, endpoints: [ep("iris", { apiKeys: true, jwt: false }), ep("llama", { apiKeys: true, jwt: true })] });

  it("the renderer's output passes", async () => {
    assert.deepEqual(await violations("gateway-requires-auth", configMap(cfg)), []);
  });

  it("without its missing-credentials gate it still passes: the API-key rule rejects requests without a bearer too", async () => {
    const lines = cfg.split("\n");
    const broken = lines.filter((l) => !/return status 401 .*unless \{ var\(txn\.bearer\) -m found \}/.test(l)).join("\n");
    assert.equal(lines.length - broken.split("\n").length, 1, "exactly one gate line removed");
    assert.match(broken, /return status 401 .*if !is_jwt !\{ var\(txn\.key_id\) -m found \}/);
    assert.deepEqual(await violations("gateway-requires-auth", configMap(broken)), []);
  });

  it("the same config with every 401 rule removed fails", async () => {
    const broken = cfg.split("\n").filter((l) => !/return status 401 /.test(l)).join("\n");
    const got = await violations("gateway-requires-auth", configMap(broken));
    assert.equal(got.length, 1);
    assert.match(got[0] ?? "", /^ConfigMap gateway-haproxy-config haproxy\.cfg: frontend fe_public routes to backends without first rejecting requests that carry no credentials/);
  });

  it("the same config with the API-key rule narrowed to one path and the gate removed fails", async () => {
    const broken = cfg.split("\n").filter((l) => !/return status 401 .*unless \{ var\(txn\.bearer\) -m found \}/.test(l))
      .map((l) => l.replace("if !is_jwt !{ var(txn.key_id) -m found }", "if !is_jwt !{ var(txn.key_id) -m found } { path_beg /admin }")).join("\n");
    const got = await violations("gateway-requires-auth", configMap(broken));
    assert.equal(got.length, 1);
    assert.match(got[0] ?? "", /only when "\{ path_beg \/admin \}" also holds/);
  });
});
