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

// The model's flavor, size, version and digest are read from its files (models/iris: an MLflow scikit-learn
// model, a copy of the repository's examples/models/iris-sklearn), and `pulumi up` publishes it into the
// platform's bucket. A registry model is `models:/iris@champion` with `fetch: { registry: { trackingUri } }`.
const iris = await ServingEndpoint.declare("iris", {
  platform: serving,
  endpoint: {
    name: "iris",
    model: { uri: "models/iris" },
    computePool: "cpu",
    concurrency: { min: 4, max: 32 },
    replicas: { min: 1, max: 6 },
  },
});

export const gatewayUrl = serving.gatewayUrl;
export const irisUrl = iris.url;
export const { platform, kubeconfig, modelStoreSecret } = platformExports(serving);
