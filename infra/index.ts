/**
 * Pulumi entry point (`main` in Pulumi.yaml): `pulumi up` per environment. Reads the typed stack config,
 * validates it and the endpoints in infra/endpoints.ts, builds the platform for the configured cloud and
 * exports the gateway URL (and the generated certificate to trust), the Grafana URL and each endpoint's invocation URL.
 */
import { prepareStack, readStackConfig, runProgram } from "./program.ts";

const cfg = readStackConfig();
// Models are resolved and every endpoint planned before any resource is registered: bad input stops here.
const outputs = runProgram(cfg, await prepareStack(cfg));

export const gatewayUrl = outputs.gatewayUrl;
export const gatewayCaCertificate = outputs.gatewayCaCertificate;
export const grafanaUrl = outputs.grafanaUrl;
export const endpointUrls = outputs.endpointUrls;
