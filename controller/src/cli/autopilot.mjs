#!/usr/bin/env node
// `npx autopilot`: the model owner's CLI (controller/src/cli/main.ts). Plain JavaScript so that it loads on any Node: in the
// repository it runs the TypeScript source (Node >= 23.6 runs it directly), in the installed package the build.
import { existsSync } from "node:fs";

const source = new URL("./main.ts", import.meta.url);
let entry = new URL("../../../dist/controller/src/cli/main.js", import.meta.url);
if (existsSync(source)) {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 23 || (major === 23 && minor < 6)) {
    process.stderr.write(`autopilot needs Node >= 23.6 to run from the repository (it runs TypeScript directly); the \`node\` on PATH is ${process.version}. Run it with npx from the repository (npm ci brings Node 24).\n`);
    process.exit(2);
  }
  entry = source;
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
