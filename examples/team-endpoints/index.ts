/**
 * A team's stack: endpoints on the platform another stack deployed (examples/platform). The reference brings the
 * cluster's kubeconfig, the pools with their selectors and tolerations, the model bucket and how endpoints get read
 * access to it, the gateway and the controller image; nothing of the platform is created here.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformReference, ServingEndpoint } from "autopilot-serving";

const config = new pulumi.Config();
const platform = await PlatformReference.fromStack(config.require("platformStack"));

const fraud = new ServingEndpoint("fraud-scorer", {
  platform,
  endpoint: {
    name: "fraud-scorer",
    model: { flavor: "xgboost" },
    computePool: "cpu",
    concurrency: { min: 8, max: 64 },
    replicas: { min: 2, max: 20 },
    sloP99Ms: 50,
    versions: [{ version: "v7", digest: "sha256:e950bd108967e4a527efe71878499d8efcc63fc18f719240c3af766b67f0bada", weight: 100 }],
  },
});

const chat = new ServingEndpoint("support-chat", {
  platform,
  endpoint: {
    name: "support-chat",
    model: { flavor: "llm", format: "safetensors", parameterCount: 8_000_000_000, dtype: "bfloat16" },
    computePool: "gpu",
    concurrency: { min: 8, max: 64 },
    replicas: { min: 1, max: 4 },
    versions: [{ version: "r-2", digest: "sha256:2b06fa0aa7d497f9111ab666b32e2fe3ef10bb74cde94c844486ad70e3250bfd", weight: 100 }],
  },
});

export const fraudScorerUrl = fraud.url;
export const supportChatUrl = chat.url;
