/**
 * `npm run bench:infra`: offline mock evaluation time of the program with 100 and with 1,000 declared endpoints
 * (local stack config; the example endpoints repeated with unique names). Each measurement runs in a fresh
 * child process (one warm-up evaluation of 10 endpoints, then the timed one), so no run inherits another's heap;
 * the two sizes alternate and each is measured 3 times; medians are compared. Both wall time and CPU time
 * (user + system of the evaluating process) are printed; the machine is shared, so CPU time is the steadier
 * figure and the acceptance check uses it. Acceptance: 1,000 evaluate in ≤ 12× the time of 100.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { evaluateStack } from "../../infra/evaluate.ts";
import { manyEndpoints } from "./bench-endpoints.ts";

const SIZES = [100, 1000] as const;
const REPEATS = 3;

interface Sample { readonly n: number; readonly ms: number; readonly cpuMs: number; readonly resources: number; readonly heapMiB: number }

async function child(n: number): Promise<void> {
  await evaluateStack("local", { declare: manyEndpoints(10) });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const ev = await evaluateStack("local", { declare: manyEndpoints(n) });
  const c1 = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  const sample: Sample = { n, ms, cpuMs: (c1.user + c1.system) / 1000, resources: ev.resources.length, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 };
  process.stdout.write(JSON.stringify(sample) + "\n");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (process.argv[2] === "--child") {
  await child(Number(process.argv[3]));
} else {
  new Command()
    .name("npm run bench:infra --")
    .description(
      "Offline mock evaluation time of the Pulumi program with 100 vs 1,000 declared endpoints (local stack config), " +
        "3 fresh processes per size; prints wall and CPU time and the 1,000 / 100 CPU ratio (acceptance ≤ 12×). Writes no files.",
    )
    .parse();
  const self = fileURLToPath(import.meta.url);
  const samples: Sample[] = [];
  for (let i = 0; i < REPEATS; i++) {
    for (const n of SIZES) {
      const out = execFileSync(process.execPath, [self, "--child", String(n)], { encoding: "utf8", maxBuffer: 1 << 20 });
      const s = JSON.parse(out.trim().split("\n").pop()!) as Sample;
      samples.push(s);
      console.log(`  run ${i + 1}: ${String(n).padStart(5)} endpoints  wall ${s.ms.toFixed(0).padStart(7)} ms  cpu ${s.cpuMs.toFixed(0).padStart(7)} ms  (${s.resources} resources, heap ${s.heapMiB.toFixed(0)} MiB)`);
    }
  }
  const med = (n: number, k: "ms" | "cpuMs") => median(samples.filter((s) => s.n === n).map((s) => s[k]));
  const res = (n: number) => samples.find((s) => s.n === n)!.resources;
  console.log("Offline mock evaluation (Pulumi mocks; local stack config), median of 3 fresh processes each:");
  for (const n of SIZES) {
    console.log(`  ${n === 100 ? "100 endpoints:  " : "1,000 endpoints:"} wall ${med(n, "ms").toFixed(0)} ms, cpu ${med(n, "cpuMs").toFixed(0)} ms  (${res(n)} resources, ${(med(n, "cpuMs") / res(n)).toFixed(2)} cpu ms/resource)`);
  }
  const wallRatio = med(1000, "ms") / med(100, "ms");
  const cpuRatio = med(1000, "cpuMs") / med(100, "cpuMs");
  console.log(`  ratio 1,000 / 100: cpu ${cpuRatio.toFixed(2)}×, wall ${wallRatio.toFixed(2)}×  (acceptance on cpu time: ≤ 12×) → ${cpuRatio <= 12 ? "PASS" : "FAIL"}`);
  process.exitCode = cpuRatio <= 12 ? 0 : 1;
}
