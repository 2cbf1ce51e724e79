/** The example model server speaks the MLflow scoring protocol. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startModelServer, type RunningModelServer } from "../../controller/src/model-server/server.ts";
import { checkContentType, parseJsonBody, predict, ScoringError } from "../../controller/src/model-server/scoring.ts";
import { call } from "../gateway/harness.ts";

describe("MLflow scoring protocol", () => {
  let srv: RunningModelServer;
  before(async () => (srv = await startModelServer({ cpuMs: 1 })));
  after(async () => srv.close());

  const ok: Array<{ name: string; body: string; type?: string; want: number[] }> = [
    { name: "dataframe_split", body: JSON.stringify({ dataframe_split: { columns: ["a", "b"], data: [[1, 2], [4, 0]] } }), want: [1, 2] },
    { name: "dataframe_records", body: JSON.stringify({ dataframe_records: [{ a: 2, b: 4 }] }), want: [2] },
    { name: "instances", body: JSON.stringify({ instances: [[2, 0], [0, 4]] }), want: [1, 1] },
    { name: "inputs as named columns", body: JSON.stringify({ inputs: { a: [2, 4], b: [0, 4] } }), want: [1, 3] },
    { name: "inputs with params", body: JSON.stringify({ inputs: [[8]], params: { temperature: 0 } }), want: [4] },
    { name: "text/csv with charset", body: "a,b\n2,4\n", type: "text/csv; charset=utf-8", want: [2] },
  ];
  for (const c of ok) {
    it(`200 ${c.name}`, async () => {
      const r = await call(srv.port, "/invocations", { key: null, body: c.body, headers: { "content-type": c.type ?? "application/json" } });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(JSON.parse(r.body), { predictions: c.want });
    });
  }

  const bad: Array<{ name: string; body: string; type?: string; status: number; code: string; message: RegExp }> = [
    { name: "other content type", body: "x", type: "text/plain", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: /only supports application\/json and text\/csv/ },
    { name: "non-utf-8 charset", body: "{}", type: "application/json; charset=latin1", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: /charset utf-8/ },
    { name: "invalid JSON", body: "{", status: 400, code: "BAD_REQUEST", message: /invalid JSON input/ },
    { name: "no known key", body: '{"data":[1]}', status: 400, code: "BAD_REQUEST", message: /found none \(keys: data\)/ },
    { name: "two keys", body: '{"inputs":[1],"instances":[1]}', status: 400, code: "BAD_REQUEST", message: /found instances, inputs/ },
    { name: "dataframe_split without data", body: '{"dataframe_split":{"columns":["a"]}}', status: 400, code: "BAD_REQUEST", message: /'data' array/ },
    { name: "dataframe_records not objects", body: '{"dataframe_records":[1]}', status: 400, code: "BAD_REQUEST", message: /dataframe_records\[0\] must be an object/ },
    { name: "params not an object", body: '{"inputs":[1],"params":[1]}', status: 400, code: "BAD_REQUEST", message: /params must be a JSON object/ },
    // 100,000 nested arrays would overflow a recursive reader's stack: refused before parsing, never a 500.
    { name: "deeply nested JSON", body: `{"dataframe_split":{"data":[${"[".repeat(100_000)}${"]".repeat(100_000)}]}}`, status: 400, code: "BAD_REQUEST", message: /nested deeper than 64 levels/ },
  ];
  for (const c of bad) {
    it(`${c.status} ${c.name}`, async () => {
      const r = await call(srv.port, "/invocations", { key: null, body: c.body, headers: { "content-type": c.type ?? "application/json" } });
      assert.equal(r.status, c.status, r.body);
      const json = JSON.parse(r.body);
      assert.equal(json.error_code, c.code);
      assert.match(json.message, c.message);
    });
  }

  it("GET /ping and /health answer 200; /version names the model; unknown path 404; GET /invocations 405", async () => {
    for (const p of ["/ping", "/health"]) assert.equal((await call(srv.port, p, { method: "GET", key: null })).status, 200);
    assert.match((await call(srv.port, "/version", { method: "GET", key: null })).body, /autopilot-example-model/);
    assert.equal((await call(srv.port, "/nope", { key: null })).status, 404);
    assert.equal((await call(srv.port, "/invocations", { method: "GET", key: null })).status, 405);
  });

  it("burns the configured CPU per request", async () => {
    const slow = await startModelServer({ cpuMs: 30 });
    try {
      const t0 = performance.now();
      await call(slow.port, "/invocations", { key: null });
      assert.ok(performance.now() - t0 >= 29);
    } finally {
      await slow.close();
    }
  });

  it("pure parts", () => {
    assert.equal(checkContentType("application/json"), "json");
    assert.throws(() => checkContentType(undefined), (e: unknown) => e instanceof ScoringError && e.status === 415);
    assert.equal(parseJsonBody('{"instances":[[1],[2]]}').rows.length, 2);
    assert.deepEqual(predict([[1, 1, 1]]), [0.875]);
  });
});
