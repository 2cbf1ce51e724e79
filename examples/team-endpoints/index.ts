/**
 * A team's stack: endpoints on the platform another stack deployed (examples/platform). The reference brings the
 * cluster's kubeconfig, the pools with their selectors and tolerations, the model bucket and how endpoints get read
 * access to it, the gateway and the controller image; nothing of the platform is created here.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformReference, ServingEndpoint } from "autopilot-serving";

const config = new pulumi.Config();
const platform = await PlatformReference.fromStack(config.require("platformStack"));

// Flavor, size, version and digest are read from the models' files (models/: the repository's example iris
// models); `pulumi up` publishes them into the platform's bucket. Registry models: `models:/<name>@<alias>` with
// `fetch: { registry: { trackingUri } }`.
const fraud = await ServingEndpoint.declare("fraud-scorer", {
  platform,
  endpoint: {
    name: "fraud-scorer",
    model: { uri: "models/fraud-scorer" },
    computePool: "cpu",
    concurrency: { min: 8, max: 64 },
    replicas: { min: 2, max: 20 },
    sloP99Ms: 50,
  },
});

// An ONNX model on the platform's GPU pool: Triton behind the MLflow-protocol adapter.
const onnx = await ServingEndpoint.declare("onnx-scorer", {
  platform,
  endpoint: {
    name: "onnx-scorer",
    model: { uri: "models/onnx-scorer" },
    computePool: "gpu",
    resources: { cpu: 2, memoryGiB: 2 },
    concurrency: { min: 8, max: 64 },
    replicas: { min: 1, max: 4 },
  },
});

export const fraudScorerUrl = fraud.url;
export const onnxScorerUrl = onnx.url;
