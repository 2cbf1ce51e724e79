// Entry the Pulumi CLI loads (package.json "main"). Pulumi's policy runner (@pulumi/pulumi/cmd/run-policy-pack)
// always registers its vendored ts-node 7 for `.ts` files loaded through require(), which cannot compile this
// pack (ESM, `.ts` import specifiers). A plain ES module as the main file is loaded by Node itself
// (require(esm)), and Node ≥ 22.18 / 24 strips the TypeScript types of everything it imports.
import "./index.ts";
