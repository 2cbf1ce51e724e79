/**
 * Ways around gateway-requires-auth, each run through the real registered policy on a crafted haproxy.cfg: a 401
 * rule whose condition holds without a credential (a constant, a path, an OR-ed alternative, a variable that is
 * not the credential), `http-request allow` before the gate, and a `default_backend` handed down by `defaults` to
 * a frontend with no gate. The gateway's own rendered configs pass (gateway-config.test.ts, program.test.ts).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { violations } from "./harness.ts";
import type { OfflineResource } from "../../policies/offline/run-pack.ts";

const cfg = (text: string): OfflineResource[] => [{ type: "kubernetes:core/v1:ConfigMap", name: "gw", props: { metadata: { name: "haproxy", namespace: "autopilot-gateway" }, data: { "haproxy.cfg": text } } }];
const BEARER = "    http-request set-var(txn.bearer) http_auth_bearer\n";
const RETURN = "    http-request return status 401 content-type application/json string '{\"error_code\":\"UNAUTHENTICATED\"}'";
const frontend = (rules: string, route = "    use_backend be_x\n") => `global\n    maxconn 100\n\nfrontend fe\n    bind :8080\n${rules}${route}\nbackend be_x\n    server s 127.0.0.1:1\n`;
const NO_GATE = "ConfigMap gw haproxy.cfg: frontend fe routes to backends without first rejecting requests that carry no credentials (no \"http-request return status 401 … unless <credential>\" before \"use_backend be_x\")";
const check = (text: string) => violations("gateway-requires-auth", cfg(text));

describe("gateway-requires-auth: 401 rules that let requests without credentials through", () => {
  it("unless TRUE", async () => {
    assert.deepEqual(await check(frontend(`${BEARER}${RETURN} unless TRUE\n`)),
      [`${NO_GATE}: the 401 rule's condition "unless TRUE" lets a request without credentials through whenever "TRUE" holds.`]);
  });
  it("a gate OR-ed with everything outside /admin", async () => {
    assert.deepEqual(await check(frontend(`${BEARER}${RETURN} unless { var(txn.bearer) -m found } || !{ path_beg /admin }\n`)),
      [`${NO_GATE}: the 401 rule's condition "unless { var(txn.bearer) -m found } || !{ path_beg /admin }" lets a request without credentials through whenever "!{ path_beg /admin }" holds.`]);
  });
  it("a gate limited to /admin (if form)", async () => {
    assert.deepEqual(await check(frontend(`${BEARER}${RETURN} if { path_beg /admin } !{ var(txn.bearer) -m found }\n`)),
      [`${NO_GATE}: the 401 rule's condition "if { path_beg /admin } !{ var(txn.bearer) -m found }" rejects a request without credentials only when "{ path_beg /admin }" also holds.`]);
  });
  it("a variable that is not the credential", async () => {
    assert.deepEqual(await check(frontend(`    http-request set-var(txn.bearer) str(anyone)\n${RETURN} unless { var(txn.bearer) -m found }\n`)),
      [`${NO_GATE}: the 401 rule's condition "unless { var(txn.bearer) -m found }" lets a request without credentials through whenever "{ var(txn.bearer) -m found }" holds.`]);
  });
  it("http-request allow before the gate", async () => {
    assert.deepEqual(await check(frontend(`    http-request allow if { path_beg /public }\n${BEARER}${RETURN} unless { var(txn.bearer) -m found }\n`)),
      ["ConfigMap gw haproxy.cfg: frontend fe lets requests through with \"http-request allow if { path_beg /public }\" before any 401 rule rejects those without credentials."]);
  });
  it("the word unless inside the response body does not make a gate", async () => {
    assert.deepEqual(await check(frontend(`${BEARER}    http-request return status 401 string 'no entry unless { var(txn.bearer) -m found }' if { path_beg /admin }\n`)),
      [`${NO_GATE}: the 401 rule's condition "if { path_beg /admin }" reads no credential.`]);
  });
});

describe("gateway-requires-auth: gates that hold", () => {
  it("unless a bearer credential is present", async () => assert.deepEqual(await check(frontend(`${BEARER}${RETURN} unless { var(txn.bearer) -m found }\n`)), []));
  it("if no Authorization header (if form, named ACL)", async () => {
    assert.deepEqual(await check(frontend(`    acl has_auth req.hdr(authorization) -m found\n${RETURN} if !has_auth\n`)), []);
  });
  it("a credential AND-ed with another check still needs the credential", async () => {
    assert.deepEqual(await check(frontend(`${BEARER}${RETURN} unless { var(txn.bearer) -m found } { path_beg /serving-endpoints/ }\n`)), []);
  });
});

describe("gateway-requires-auth: routes handed down by defaults", () => {
  it("default_backend in defaults reaches a frontend with no gate", async () => {
    const text = "defaults\n    mode http\n    default_backend be_x\n\nfrontend fe\n    bind :8080\n\nbackend be_x\n    server s 127.0.0.1:1\n";
    assert.deepEqual(await check(text), [
      "ConfigMap gw haproxy.cfg: frontend fe routes to backends without first rejecting requests that carry no credentials (no \"http-request return status 401 … unless <credential>\" before \"default_backend be_x (from defaults)\").",
    ]);
  });
  it("a later defaults section without default_backend resets it", async () => {
    const text = "defaults\n    default_backend be_x\n\ndefaults\n    mode http\n\nfrontend fe\n    bind :8080\n    http-request return status 404\n";
    assert.deepEqual(await check(text), []);
  });
  it("the inherited route is fine behind a gate", async () => {
    const text = `defaults\n    mode http\n    default_backend be_x\n\nfrontend fe\n    bind :8080\n${BEARER}${RETURN} unless { var(txn.bearer) -m found }\n\nbackend be_x\n    server s 127.0.0.1:1\n`;
    assert.deepEqual(await check(text), []);
  });
});
