#!/usr/bin/env node
// `npx autopilot`: the model owner's CLI (cli/main.ts). Plain JavaScript so that an old `node` first on PATH gets
// this message instead of a syntax error from the TypeScript entry point.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 23 || (major === 23 && minor < 6)) {
  process.stderr.write(`autopilot needs Node >= 23.6 (it runs TypeScript directly); the \`node\` on PATH is ${process.version}. Run it with npx from the repository (npm ci brings Node 24).\n`);
  process.exit(2);
}
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
