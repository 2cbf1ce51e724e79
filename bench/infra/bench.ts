/**
 * `npm run bench:infra`: offline mock evaluation time of the program with 100 and with 1,000 declared endpoints
 * (local stack config; the example endpoints repeated with unique names). Each measurement runs in a fresh
 * child process (one warm-up evaluation of 10 endpoints, then the timed one), so no run inherits another's heap;
 * the two sizes alternate and each is measured 3 times; medians are compared. Both wall time and CPU time
 * (user + system of the evaluating process) are printed; the machine is shared, so CPU time is the steadier
 * figure and the acceptance check uses it. Acceptance: 1,000 evaluate in ≤ 12× the time of 100.
 * `--sizes` and `--repeats` make a smaller run (a smoke run: the acceptance is judged only at 100 vs 1,000).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { intOption } from "../../controller/src/cli-options.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { manyEndpoints } from "./bench-endpoints.ts";

const DEFAULT_SIZES: readonly [number, number] = [100, 1000];

/** `--sizes small,large`: two endpoint counts, ascending, each in 1..5000. */
function parseSizes(v: string): readonly [number, number] {
  const parts = v.split(",").map((x) => Number(x.trim()));
  const [small, large] = parts;
  if (parts.length !== 2 || !parts.every((n) => Number.isInteger(n) && n >= 1 && n <= 5000) || small! >= large!) {
    throw new InvalidArgumentError(`--sizes: ${JSON.stringify(v)} is not allowed; expected two integers in 1..5000, the smaller first, e.g. 100,1000`);
  }
  return [small!, large!];
}

const count = (n: number): string => n.toLocaleString("en-US");

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
  const o = new Command()
    .name("npm run bench:infra --")
    .description(
      "Offline mock evaluation time of the Pulumi program with 100 vs 1,000 declared endpoints (local stack config), " +
        "3 fresh processes per size; prints wall and CPU time and the 1,000 / 100 CPU ratio (acceptance ≤ 12×). Writes no files.",
    )
    .addOption(new Option("--sizes <small,large>", "the two endpoint counts compared (the acceptance is judged at 100,1000 only)").argParser(parseSizes).default(DEFAULT_SIZES, "100,1000"))
    .option("--repeats <n>", "fresh processes per size (medians compared), 1..20", intOption("--repeats", 1, 20), 3)
    .parse()
    .opts<{ sizes: readonly [number, number]; repeats: number }>();
  const SIZES = o.sizes;
  const [small, large] = SIZES;
  const judged = small === DEFAULT_SIZES[0] && large === DEFAULT_SIZES[1];
  const self = fileURLToPath(import.meta.url);
  const samples: Sample[] = [];
  for (let i = 0; i < o.repeats; i++) {
    for (const n of SIZES) {
      const out = execFileSync(process.execPath, [self, "--child", String(n)], { encoding: "utf8", maxBuffer: 1 << 20 });
      const s = JSON.parse(out.trim().split("\n").pop()!) as Sample;
      samples.push(s);
      console.log(`  run ${i + 1}: ${String(n).padStart(5)} endpoints  wall ${s.ms.toFixed(0).padStart(7)} ms  cpu ${s.cpuMs.toFixed(0).padStart(7)} ms  (${s.resources} resources, heap ${s.heapMiB.toFixed(0)} MiB)`);
    }
  }
  const med = (n: number, k: "ms" | "cpuMs") => median(samples.filter((s) => s.n === n).map((s) => s[k]));
  const res = (n: number) => samples.find((s) => s.n === n)!.resources;
  console.log(`Offline mock evaluation (Pulumi mocks; local stack config), median of ${o.repeats} fresh process${o.repeats === 1 ? "" : "es"} each:`);
  const width = Math.max(...SIZES.map((n) => count(n).length)) + " endpoints:".length;
  for (const n of SIZES) {
    console.log(`  ${`${count(n)} endpoints:`.padEnd(width)} wall ${med(n, "ms").toFixed(0)} ms, cpu ${med(n, "cpuMs").toFixed(0)} ms  (${res(n)} resources, ${(med(n, "cpuMs") / res(n)).toFixed(2)} cpu ms/resource)`);
  }
  const wallRatio = med(large, "ms") / med(small, "ms");
  const cpuRatio = med(large, "cpuMs") / med(small, "cpuMs");
  const verdict = judged ? `(acceptance on cpu time: ≤ 12×) → ${cpuRatio <= 12 ? "PASS" : "FAIL"}` : "(not judged: the acceptance is at 100 vs 1,000 endpoints)";
  console.log(`  ratio ${count(large)} / ${count(small)}: cpu ${cpuRatio.toFixed(2)}×, wall ${wallRatio.toFixed(2)}×  ${verdict}`);
  process.exitCode = judged && cpuRatio > 12 ? 1 : 0;
}
