/**
 * API keys scoped per endpoint as deployed, and rotated without a restart: the stack config's entries become the
 * agent's key file (`apiKeysFile`), the agent re-reads it (`watchApiKeys`) and changes HAProxy's map live. Real
 * HAProxy; the worker pid shows nothing was reloaded or restarted.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { apiKeysFile } from "../../components/gateway/gateway-contract.ts";
import { watchApiKeys } from "../../controller/src/gateway/agent-config.ts";
import { parseInfoPid } from "../../controller/src/gateway/runtime-api.ts";
import { hashApiKey } from "../../controller/src/local/local-source.ts";
import { parseScopedApiKeys, parseStackConfig } from "../../infra/config-schema.ts";
import { scopedApiKeys } from "../../infra/program.ts";
import { call, endpoint, startGateway, until, type Gateway } from "./harness.ts";

const P = (ep: string): string => `/serving-endpoints/${ep}/invocations`;
const status = async (port: number, ep: string, key: string): Promise<number> => (await call(port, P(ep), { key })).status;

describe("per-endpoint key scopes from the stack config, rotated without a restart (real HAProxy)", () => {
  let gw: Gateway;
  let keysPath: string;
  let stopWatch: () => void;
  const errors: string[] = [];
  before(async () => {
    gw = await startGateway({ endpoints: [endpoint("iris"), endpoint("fraud")], apiKeys: [] });
    await gw.addPod("iris");
    await gw.addPod("fraud");
    keysPath = join(gw.dir, "api-keys.json");
    const stack = [`ci:${hashApiKey("key-ci")}:iris`, `ops:${hashApiKey("key-ops")}:*`];
    await writeFile(keysPath, apiKeysFile([], parseScopedApiKeys(stack)));
    stopWatch = watchApiKeys(keysPath, 100, (keys) => gw.source.setApiKeys(keys), (m) => errors.push(m));
    assert.ok(await until(async () => (await status(gw.publicPort, "iris", "key-ci")) === 200));
    // Start once both keys are served (the `*` key too), however busy the machine.
    assert.ok(await until(async () => (await status(gw.publicPort, "iris", "key-ops")) === 200));
  });
  after(async () => {
    stopWatch();
    await gw.stop();
  });

  it("a key scoped to one endpoint gets 403 on the other; a * key calls both", async () => {
    assert.equal(await status(gw.publicPort, "iris", "key-ci"), 200);
    assert.equal(await status(gw.publicPort, "fraud", "key-ci"), 403);
    assert.equal(await status(gw.publicPort, "iris", "key-ops"), 200);
    assert.equal(await status(gw.publicPort, "fraud", "key-ops"), 200);
  });

  it("a * key covers an endpoint added later", async () => {
    gw.source.setEndpoint(endpoint("later"));
    await gw.addPod("later");
    assert.ok(await until(async () => (await status(gw.publicPort, "later", "key-ops")) === 200, 8000));
    assert.equal(await status(gw.publicPort, "later", "key-ci"), 403);
  });

  it("rotation: a new file revokes one key and adds another, live, with the same worker", async () => {
    const pid = parseInfoPid(await gw.api.send("show info"));
    await writeFile(keysPath, apiKeysFile([], parseScopedApiKeys([`ci2:${hashApiKey("key-ci-2")}:fraud`, `ops:${hashApiKey("key-ops")}:*`])));
    assert.ok(await until(async () => (await status(gw.publicPort, "fraud", "key-ci-2")) === 200, 5000));
    assert.equal(await status(gw.publicPort, "iris", "key-ci"), 401);
    assert.equal(await status(gw.publicPort, "iris", "key-ci-2"), 403);
    assert.equal(parseInfoPid(await gw.api.send("show info")), pid, "no reload, no restart");
  });

  it("a broken file is reported and the keys in force stay", async () => {
    await writeFile(keysPath, "[{not json");
    assert.ok(await until(() => errors.some((e) => /not JSON.*keeping the keys in force/.test(e)), 3000), errors.join("\n"));
    assert.equal(await status(gw.publicPort, "fraud", "key-ci-2"), 200);
  });
});

describe("gatewayApiKeys in the stack config", () => {
  const base = { "autopilot-serving:cloud": "local", "autopilot-serving:controllerImage": "a/b:1", "autopilot-serving:localStoreSecretSeed": "0123456789abcdef" };
  it("parses id:sha256:endpoints entries", () => {
    const cfg = parseStackConfig({ ...base, "autopilot-serving:gatewayApiKeys": JSON.stringify([`ci:${"a".repeat(64)}:iris,fraud`]) }, "local", new Set(["autopilot-serving:localStoreSecretSeed"]));
    // Scopes may name endpoints of team stacks, which this stack does not know: names are held to DNS labels only.
    assert.deepEqual(scopedApiKeys(cfg), [{ id: "ci", sha256: "a".repeat(64), endpoints: ["iris", "fraud"] }]);
    assert.throws(
      () => parseStackConfig({ ...base, "autopilot-serving:gatewayApiKeys": JSON.stringify([`ci:${"a".repeat(64)}:Not_A_Label`]) }, "local", new Set(["autopilot-serving:localStoreSecretSeed"])),
      /gatewayApiKeys/,
    );
  });
  it("a raw key pasted instead of a hash is refused without echoing it", () => {
    for (const key of ["gatewayApiKeys", "gatewayApiKeyHashes"]) {
      const secret = "sk-live-THIS-IS-A-RAW-KEY";
      assert.throws(
        () => parseStackConfig({ ...base, [`autopilot-serving:${key}`]: JSON.stringify([key === "gatewayApiKeys" ? `ci:${secret}:iris` : secret]) }, "local", new Set(["autopilot-serving:localStoreSecretSeed"])),
        (e: Error) => e.message.includes(key) && !e.message.includes(secret),
      );
    }
  });
});
