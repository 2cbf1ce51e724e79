/**
 * The platform stack: one EKS cluster with a CPU and a GPU pool, the gateway, the model bucket, observability and the
 * APA controller, plus one endpoint the platform team runs itself. It exports what team stacks need
 * (`platform`, `kubeconfig`, `modelStoreSecret`: see examples/team-endpoints).
 */
import * as pulumi from "@pulumi/pulumi";
import { platformExports, ServingEndpoint, ServingPlatform } from "autopilot-serving";

const config = new pulumi.Config();

const serving = new ServingPlatform("serving", {
  cloud: "aws",
  region: config.require("region"),
  controllerImage: config.require("controllerImage"),
  pools: [
    { name: "cpu", machineType: "m7i.2xlarge", minNodes: 2, maxNodes: 10 },
    { name: "gpu", kind: "gpu", machineType: "g6.xlarge", minNodes: 0, maxNodes: 4 },
  ],
  gateway: { apiKeyHashes: config.requireObject<string[]>("gatewayApiKeyHashes") },
});

const iris = new ServingEndpoint("iris", {
  platform: serving,
  endpoint: {
    name: "iris",
    model: { flavor: "sklearn" },
    computePool: "cpu",
    concurrency: { min: 4, max: 32 },
    replicas: { min: 1, max: 6 },
    versions: [{ version: "v1", digest: "sha256:d5dc18a9ffc6f3b3e9f8db1b3b670810f1f2c39a1e3034d8d4ef0f6e3adf4e92", weight: 100 }],
  },
});

export const gatewayUrl = serving.gatewayUrl;
export const irisUrl = iris.url;
export const { platform, kubeconfig, modelStoreSecret } = platformExports(serving);
