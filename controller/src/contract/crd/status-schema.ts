/** OpenAPI v3 schema of `ServingEndpoint.status`, written only by the APA controller (status subresource). */
import type { OpenApiSchema } from "./openapi-types.ts";

const count = (description: string): OpenApiSchema => ({ type: "integer", format: "int32", minimum: 0, description });

const conditionSchema: OpenApiSchema = {
  type: "object",
  description: "One aspect of the endpoint's state (metav1.Condition shape).",
  required: ["type", "status", "reason", "message", "lastTransitionTime"],
  properties: {
    type: {
      type: "string",
      maxLength: 316,
      description: "Ready, ScalingActive or MetricsAvailable.",
    },
    status: { type: "string", enum: ["True", "False", "Unknown"], description: "True, False or Unknown." },
    reason: {
      type: "string",
      maxLength: 1024,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
      description: "CamelCase reason; for scaling conditions the engine's reason code (e.g. ScaleUp, StaleMetrics).",
    },
    message: { type: "string", maxLength: 32768, description: "Human-readable detail." },
    lastTransitionTime: {
      type: "string",
      format: "date-time",
      description: "When status last changed (RFC 3339).",
    },
    observedGeneration: {
      type: "integer",
      format: "int64",
      minimum: 0,
      description: "metadata.generation the condition was set for.",
    },
  },
};

/** Schema of `status`. */
export const servingEndpointStatusSchema: OpenApiSchema = {
  type: "object",
  description: "What the APA controller observed and decided. Written by the controller only.",
  properties: {
    observedGeneration: {
      type: "integer",
      format: "int64",
      minimum: 0,
      description: "metadata.generation the controller last acted on.",
    },
    replicas: count("Replica count currently asked for (the Deployment's spec.replicas)."),
    readyReplicas: count("Pods ready to serve."),
    desiredReplicas: count("The autoscaler's latest desired replica count."),
    targetConcurrency: count(
      "Per-pod concurrency (requests one pod serves at once) the gateway enforces; the gateway agent reads it from here.",
    ),
    observedConcurrency: {
      type: "number",
      minimum: 0,
      description: "In-flight plus queued requests, summed across gateway replicas, that the last decision used.",
    },
    observedQps: { type: "number", minimum: 0, description: "Requests per second over the last sample." },
    lastScaleTime: {
      type: "string",
      format: "date-time",
      description: "When the controller last changed the replica count (RFC 3339).",
    },
    selector: {
      type: "string",
      description: "Label selector of the endpoint's pods, in string form (for the scale subresource).",
    },
    seasonality: {
      type: "string",
      maxLength: 16384,
      pattern: "^v[0-9]+:",
      description:
        "The autoscaler's learned seasonality (demand per bucket of a day), versioned (v1: counters, then float32 peaks in base64). Written at each bucket's close; a restarted controller reads it back so its forecast survives.",
    },
    conditions: {
      type: "array",
      description: "Ready, ScalingActive and MetricsAvailable conditions with reason and message.",
      maxItems: 16,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
      items: conditionSchema,
    },
  },
};
