/**
 * `npm run build`: compiles the package's entry points (and what they import) to JavaScript with `.d.ts` files
 * under dist/, from a clean dist/ (tsconfig.build.json). `npm pack` and `npm publish` run it (prepack): Node runs
 * no TypeScript under node_modules, so the published package is JavaScript.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log("Usage: npm run build\n\nCompiles the package's entry points — components/index.ts (the root and /components), controller/src/index.ts (contract, engine), controller/src/cli/main.ts (the `autopilot` bin) and infra/testing.ts — to dist/ (JavaScript + .d.ts).");
  process.exit(0);
}
rmSync(join(root, "dist"), { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
process.exit(tsc.status ?? 1);
