/**
 * Pulumi entry point (`main` in Pulumi.yaml): `pulumi up` per environment. Reads the typed stack config,
 * validates it and the endpoints in infra/endpoints.ts, builds the platform for the configured cloud and
 * exports the gateway URL (and the generated certificate to trust), the Grafana URL, each endpoint's invocation URL
 * and what team stacks read with `PlatformReference.fromStack` (`platform`, and the secrets `kubeconfig`,
 * `modelStoreSecret`).
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks.js";
import { offlineStore } from "./mock-model-store.ts";
import { fetchContext, prepareStack, readStackConfig, runProgram } from "./program.ts";

const cfg = readStackConfig();
// Under Pulumi's mocks (an offline evaluation: the engine is a test double) the stack's s3:// and gs:// model
// sources are read from their offline test double too, as in infra/evaluate.ts.
const offline = pulumi.runtime.getMonitor() instanceof MockMonitor;
// Models are resolved and every endpoint planned before any resource is registered: bad input stops here.
const outputs = runProgram(cfg, await prepareStack(cfg, undefined, offline ? { ...fetchContext(cfg), openSourceStore: offlineStore } : fetchContext(cfg)));

export const gatewayUrl = outputs.gatewayUrl;
export const gatewayCaCertificate = outputs.gatewayCaCertificate;
export const grafanaUrl = outputs.grafanaUrl;
export const endpointUrls = outputs.endpointUrls;
export const platform = outputs.platform;
export const kubeconfig = outputs.kubeconfig;
export const modelStoreSecret = outputs.modelStoreSecret;
