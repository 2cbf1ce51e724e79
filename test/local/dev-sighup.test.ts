/**
 * `npm run dev` ended by SIGHUP (its terminal closed) stops what it started: HAProxy (master and worker) and
 * the model-server processes exit with it, none is left running. Real processes, found through /proc.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";

const DEV = new URL("../../controller/src/local/dev.ts", import.meta.url).pathname;

/** `pid`'s descendants with their command lines. */
function descendants(pid: number): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  const visit = (p: number): void => {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      let kids: number[] = [];
      try {
        kids = readFileSync(`/proc/${p}/task/${tid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number);
      } catch {
        continue;
      }
      for (const k of kids) {
        let cmd = "";
        try {
          cmd = readFileSync(`/proc/${k}/cmdline`, "utf8").replace(/\0/g, " ");
        } catch {
          // ended meanwhile
        }
        out.push({ pid: k, cmd });
        visit(k);
      }
    }
  };
  visit(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    // A zombie has exited; only a running (or sleeping) process counts.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("npm run dev and SIGHUP", () => {
  it("stops HAProxy and the model servers when it gets SIGHUP", async () => {
    const child = spawn(process.execPath, [DEV, "--port", "0", "--quiet", "--no-chat", "--min-replicas", "2"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
    const deadline = Date.now() + 30_000;
    let procs: Array<{ pid: number; cmd: string }> = [];
    try {
      for (;;) {
        procs = descendants(child.pid as number);
        const ready = /endpoint {2}POST/.test(stdout) && procs.some((p) => /haproxy/.test(p.cmd)) && procs.filter((p) => /model-server/.test(p.cmd)).length >= 2;
        if (ready) break;
        assert.ok(child.exitCode === null, `dev exited early: ${stderr}`);
        assert.ok(Date.now() < deadline, `dev did not start within 30 s: ${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const started = procs.filter((p) => /haproxy|model-server/.test(p.cmd));
      child.kill("SIGHUP");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      assert.notEqual(child.exitCode === null && child.signalCode === null, true, "dev did not exit within 15 s of SIGHUP");
      const left = started.filter((p) => alive(p.pid));
      assert.deepEqual(left, [], `left running after SIGHUP: ${left.map((p) => `${p.pid} ${p.cmd}`).join("; ")}`);
    } finally {
      for (const p of procs) if (alive(p.pid)) process.kill(p.pid, "SIGKILL");
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
