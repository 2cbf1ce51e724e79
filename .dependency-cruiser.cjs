/**
 * Import rules, checked by test/layout/dependencies.test.ts (npm test): imports point one way — the contract →
 * pure logic (engine, simulator) → adapters (gateway, kube, local) → entry points; benchmarks, tools and tests
 * sit outside the product and the product never imports them; no cycles. Type-only imports count too.
 */
const PRODUCT = "^(components|controller|infra|policies)/";
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "a cycle ties modules that should be layered", from: {}, to: { circular: true } },
    {
      name: "product-not-bench-tools-test",
      severity: "error",
      comment: "the product ships without bench/, tools/ and test/",
      from: { path: PRODUCT },
      to: { path: "^(bench|tools|test)/" },
    },
    {
      name: "components-only-contract",
      severity: "error",
      comment: "the Pulumi components take from the controller package only its contract (CRD, labels, names, RBAC)",
      from: { path: "^components/" },
      to: { path: "^controller/", pathNot: "^controller/src/contract/" },
    },
    {
      name: "contract-is-a-leaf",
      severity: "error",
      comment: "the contract imports nothing else of the repository",
      from: { path: "^controller/src/contract/" },
      to: { path: "^(components|controller|infra|policies)/", pathNot: "^controller/src/contract/" },
    },
    {
      name: "engine-is-pure",
      severity: "error",
      comment: "the decision engine imports only the contract and itself: no adapters, simulator or entry points",
      from: { path: "^controller/src/engine/" },
      to: { path: "^controller/src/", pathNot: "^controller/src/(engine|contract)/" },
    },
    {
      name: "simulator-not-adapters",
      severity: "error",
      comment: "the simulator runs the engine without Kubernetes, the gateway agent or the local loop",
      from: { path: "^controller/src/sim/" },
      to: { path: "^controller/src/(kube|local|model-server)/" },
    },
    {
      name: "controller-not-components",
      severity: "error",
      comment: "the controller, gateway agent, simulator and local loop run without the Pulumi components; only the model owner's CLI (an entry point) uses their model module",
      from: { path: "^controller/", pathNot: "^controller/src/cli/" },
      to: { path: "^components/" },
    },
    {
      name: "cli-is-an-entry-point",
      severity: "error",
      comment: "the `autopilot` CLI sits on top: no product module imports it",
      from: { path: PRODUCT, pathNot: "^controller/src/cli/" },
      to: { path: "^controller/src/cli/" },
    },
    {
      name: "components-not-infra-or-policies",
      severity: "error",
      comment: "components are the library; the program (infra/) and the policy pack use them, not the reverse",
      from: { path: "^components/" },
      to: { path: "^(infra|policies)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    moduleSystems: ["es6"],
  },
};
