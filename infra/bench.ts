/**
 * `npm run bench:infra`: offline mock evaluation time of the program with 100 and with 1,000 declared
 * endpoints (local stack config; generated endpoints cycle through the example shapes), measured in the same
 * run. Prints both and the ratio; acceptance: 1,000 evaluate in ≤ 12× the time of 100.
 */
import type { EndpointDeclaration } from "../components/endpoint-types.ts";
import { evaluateStack } from "./evaluate.ts";
import { declareEndpoints, type EndpointContext } from "./endpoints.ts";

/** `n` endpoints made from the example set with unique names. */
export function manyEndpoints(n: number): (ctx: EndpointContext) => EndpointDeclaration[] {
  return (ctx) => {
    const base = declareEndpoints(ctx);
    return Array.from({ length: n }, (_, i) => {
      const b = base[i % base.length]!;
      return { ...b, name: `${b.name.slice(0, 28)}-${i}` };
    });
  };
}

async function timeOnce(n: number): Promise<{ ms: number; resources: number }> {
  const t0 = performance.now();
  const ev = await evaluateStack("local", { declare: manyEndpoints(n) });
  return { ms: performance.now() - t0, resources: ev.resources.length };
}

const REPEATS = 3;
await timeOnce(10); // warm-up: module loading and JIT
const results: Record<number, { ms: number; resources: number }> = {};
for (const n of [100, 1000]) {
  const runs: { ms: number; resources: number }[] = [];
  for (let i = 0; i < REPEATS; i++) runs.push(await timeOnce(n));
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b)[Math.floor(REPEATS / 2)]!;
  results[n] = { ms, resources: runs[0]!.resources };
}
const r100 = results[100]!;
const r1000 = results[1000]!;
const ratio = r1000.ms / r100.ms;
console.log("Offline mock evaluation (Pulumi mocks; local stack config), median of 3 runs each:");
console.log(`  100 endpoints:   ${r100.ms.toFixed(0)} ms  (${r100.resources} resources, ${(r100.ms / r100.resources).toFixed(2)} ms/resource)`);
console.log(`  1,000 endpoints: ${r1000.ms.toFixed(0)} ms  (${r1000.resources} resources, ${(r1000.ms / r1000.resources).toFixed(2)} ms/resource)`);
console.log(`  ratio 1,000 / 100: ${ratio.toFixed(2)}×  (acceptance: ≤ 12×) → ${ratio <= 12 ? "PASS" : "FAIL"}`);
process.exitCode = ratio <= 12 ? 0 : 1;
