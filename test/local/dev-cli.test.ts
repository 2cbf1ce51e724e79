/**
 * `npm run dev` when its public port is taken: HAProxy's own reason (the address it could not bind) and the flags
 * that choose other ports, exit 2 — not a bare "haproxy exited with code 1". Real HAProxy, real busy socket.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { describe, it } from "node:test";

const DEV = new URL("../../controller/src/local/dev.ts", import.meta.url).pathname;

describe("npm run dev with a busy port", () => {
  it("names the address HAProxy could not bind and the --port flag, exit 2", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [DEV, "--port", String(port), "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdout.resume();
      const code = await new Promise<number | null>((r) => child.on("exit", r));
      assert.equal(code, 2, stderr);
      assert.match(stderr, new RegExp(`cannot bind socket \\(Address already in use\\) for \\[127\\.0\\.0\\.1:${port}\\]`));
      assert.match(stderr, /--port <n> sets the public port \(now \d+; 0 = a free one\)/);
    } finally {
      busy.close();
    }
  });
});
