// Pulumi entry point (`main` in Pulumi.yaml). Plain JavaScript on purpose: it must load on any Node, so that an
// old `node` first on PATH gets this message instead of a module-format error from infra/index.ts.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 23 || (major === 23 && minor < 6)) {
  throw new Error(
    `autopilot-serving needs Node >= 23.6 to run its TypeScript program, but the \`node\` on PATH is ${process.version}. ` +
      'Run Pulumi with the Node that `npm ci` installed: PATH="$PWD/node_modules/.bin:$PATH" pulumi up',
  );
}
const program = await import("./index.ts");
export const gatewayUrl = program.gatewayUrl;
export const gatewayCaCertificate = program.gatewayCaCertificate;
export const grafanaUrl = program.grafanaUrl;
export const endpointUrls = program.endpointUrls;
export const platform = program.platform;
export const kubeconfig = program.kubeconfig;
export const modelStoreSecret = program.modelStoreSecret;
