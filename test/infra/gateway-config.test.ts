/**
 * The gateway ConfigMap rendered for each example stack is a valid HAProxy configuration: checked with the real
 * `haproxy -c` (Debian's HAProxy 2.6) after pointing its file paths at a temp dir holding a self-signed
 * certificate and the API-key map from the rendered Secret.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { GATEWAY_PATHS } from "../../components/gateway/gateway-spec.ts";
import { EXAMPLE_STACKS } from "../../infra/evaluate.ts";
import { evaluated, kubeObjects, type Obj } from "./helpers.ts";

const dir = mkdtempSync(path.join(tmpdir(), "infra-gw-"));
after(() => rmSync(dir, { recursive: true, force: true }));
execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=gateway.test",
  "-keyout", path.join(dir, "gateway.pem.key"), "-out", path.join(dir, "gateway.pem")], { stdio: "ignore" });

for (const stack of EXAMPLE_STACKS) {
  describe(`stack ${stack}: gateway`, () => {
    it("haproxy.cfg passes `haproxy -c`, terminates TLS and has one backend per endpoint", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj);
      const cfg = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === "haproxy-config")!.data["haproxy.cfg"] as string;
      const map = (objs.find((o) => o.kind === "Secret" && o.metadata.name === "gateway-api-keys")!.stringData as Obj)["api-keys.map"] as string;
      const endpoints = objs.filter((o) => o.kind === "ServingEndpoint").map((o) => o.metadata.name as string);
      assert.match(cfg, /bind 0\.0\.0\.0:8443 ssl crt \/etc\/haproxy\/tls\/gateway\.pem/);
      for (const ep of endpoints) assert.match(cfg, new RegExp(`^backend be_${ep}$`, "m"));
      assert.ok(map.trim().split("\n").length >= 1 + endpoints.length, "map has key and key/endpoint entries");
      const local = cfg.replaceAll(GATEWAY_PATHS.tlsDir, dir).replaceAll(GATEWAY_PATHS.authDir, dir).replaceAll(GATEWAY_PATHS.runDir, dir);
      const file = path.join(dir, `${stack}.cfg`);
      writeFileSync(path.join(dir, "api-keys.map"), map);
      writeFileSync(file, local);
      const out = execFileSync("haproxy", ["-c", "-f", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      assert.match(out, /Configuration file is valid/);
    });
  });
}
