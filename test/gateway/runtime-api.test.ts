/** Parsers of runtime API answers (HAProxy 2.6.12 output shapes). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorAnswer, parseInfoPid, parseServerStats, parseShowMap, slotStateOf } from "../../controller/src/gateway/runtime-api.ts";

describe("runtime API parsers", () => {
  it("show stat typed: fields by name, commas in a check description do not shift anything", () => {
    const text = [
      "S.4.1.0.pxname.1:KNS:str:be_ep",
      "S.4.1.1.svname.1:KNS:str:pod1",
      "S.4.1.2.qcur.1:MGP:u32:0",
      "S.4.1.4.scur.1:MGP:u32:2",
      "S.4.1.6.slim.1:CLP:u32:4",
      "S.4.1.17.status.1:SGP:str:DOWN",
      "S.4.1.65.check_desc.1:MCS:str:Layer4 connection problem, info: \"Connection refused\", check duration: 0ms",
      "S.4.1.73.addr.1:CGS:str:127.0.0.1:41737",
      "S.4.2.0.pxname.1:KNS:str:be_ep",
      "S.4.2.1.svname.1:KNS:str:pod2",
      "S.4.2.17.status.1:SGP:str:MAINT",
      "S.4.2.73.addr.1:CGS:str:0.0.0.0:1",
      "",
    ].join("\n");
    assert.deepEqual(parseServerStats(text), [
      { backend: "be_ep", server: "pod1", sessions: 2, queued: 0, maxconn: 4, status: "DOWN", addr: "127.0.0.1", port: 41737 },
      { backend: "be_ep", server: "pod2", sessions: 0, queued: 0, maxconn: 0, status: "MAINT", addr: "0.0.0.0", port: 1 },
    ]);
    assert.throws(() => parseServerStats("Unknown command\n"), /unexpected stat answer/);
  });

  it("slot states from statuses", () => {
    const table: Array<[string, string]> = [["UP", "ready"], ["UP 1/2", "ready"], ["no check", "ready"], ["DOWN", "ready"], ["DRAIN", "drain"], ["MAINT", "maint"], ["MAINT (resolution)", "maint"]];
    for (const [status, want] of table) assert.equal(slotStateOf(status), want, status);
  });

  it("show map, show info, error answers", () => {
    assert.deepEqual([...parseShowMap("0x55da38c04d50 abc k1\n0x55da38c04d90 abc/ep k1\n\n")], [["abc", "k1"], ["abc/ep", "k1"]]);
    assert.equal(parseInfoPid("Name: HAProxy\nPid: 8050\nUptime: 0d\n"), 8050);
    assert.ok(isErrorAnswer("No such server.\n"));
    assert.ok(!isErrorAnswer("IP changed from '0.0.0.0' to '127.0.0.1', port changed from '1' to '43839' by 'stats socket command'\n"));
    assert.ok(!isErrorAnswer("\n"));
  });
});
