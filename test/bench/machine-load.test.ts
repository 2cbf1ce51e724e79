/**
 * The benchmark's own process tree is its own work: processTreeCpuMs counts the CPU of live children and of
 * children already reaped, so a benchmark's model servers are not taken for the machine's other load.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { platform } from "node:os";
import { it } from "node:test";
import { processTreeCpuMs } from "../../bench/machine-load.ts";

/** A child that burns `ms` of its own CPU time (not wall time: the machine may be busy), then exits. */
const burn = (ms: number) => spawn(process.execPath, ["-e", `while (process.cpuUsage().user < ${ms * 1000});`], { stdio: "ignore" });

it("counts a child's CPU while it runs and after it exited", { skip: platform() !== "linux" }, async () => {
  const before = processTreeCpuMs();
  assert.ok(before !== undefined);
  const live = burn(60_000);
  await new Promise((r) => setTimeout(r, 1_500));
  const during = processTreeCpuMs() as number;
  live.kill("SIGKILL");
  await once(live, "exit");
  const killed = processTreeCpuMs() as number;
  const done = burn(500);
  await once(done, "exit");
  const after = processTreeCpuMs() as number;
  // the live child burnt CPU by the middle reading (on a busy machine at least 0.2 s of its 1.5 s); the second
  // child's 0.5 s is counted once it was reaped (cutime); a killed child's time stays counted
  assert.ok(during - before >= 200, `live child: ${during - before} ms`);
  assert.ok(killed >= during, `after the kill: ${killed} < ${during}`);
  assert.ok(after - killed >= 500, `reaped child: ${after - killed} ms`);
  assert.equal(processTreeCpuMs(2 ** 22 + 12345), undefined, "no such process");
});
