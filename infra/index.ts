/**
 * Pulumi entry point (`main` in Pulumi.yaml): `pulumi up` per environment. Reads the typed stack config,
 * validates it and the endpoints in infra/endpoints.ts, builds the platform for the configured cloud and
 * exports the gateway URL (and the generated certificate to trust), the Grafana URL, each endpoint's invocation URL
 * and what team stacks read with `PlatformReference.fromStack` (`platform`, and the secrets `kubeconfig`,
 * `modelStoreSecret`).
 */
import { readStackConfig, runProgram } from "./program.ts";

const outputs = runProgram(readStackConfig());

export const gatewayUrl = outputs.gatewayUrl;
export const gatewayCaCertificate = outputs.gatewayCaCertificate;
export const grafanaUrl = outputs.grafanaUrl;
export const endpointUrls = outputs.endpointUrls;
export const platform = outputs.platform;
export const kubeconfig = outputs.kubeconfig;
export const modelStoreSecret = outputs.modelStoreSecret;
