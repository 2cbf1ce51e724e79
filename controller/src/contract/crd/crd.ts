/**
 * Builds the `apiextensions.k8s.io/v1` CustomResourceDefinition of ServingEndpoint from the schemas in this
 * folder. The Pulumi component applies exactly this object; `kubectl explain servingendpoint.spec` shows the
 * descriptions written in `spec-schema.ts`.
 */
import { ENDPOINT_NAME_MAX_LENGTH } from "./limits.ts";
import type { OpenApiSchema } from "./openapi-types.ts";
import { servingEndpointSpecSchema } from "./spec-schema.ts";
import { servingEndpointStatusSchema } from "./status-schema.ts";
import {
  SERVING_GROUP,
  SERVING_KIND,
  SERVING_PLURAL,
  SERVING_SHORT_NAMES,
  SERVING_SINGULAR,
  SERVING_VERSION,
} from "./types.ts";

/** Whole-object schema (`spec.versions[0].schema.openAPIV3Schema`). */
export const servingEndpointSchema: OpenApiSchema = {
  type: "object",
  description:
    "A model-serving endpoint: a model, its runtime and compute pool, and the concurrency and replica bounds the APA controller autoscales within.",
  required: ["spec"],
  properties: {
    apiVersion: { type: "string", description: "serving.autopilot.dev/v1alpha1" },
    kind: { type: "string", description: "ServingEndpoint" },
    // The name is also a label value (serving.autopilot.dev/endpoint=<name>) and a gateway backend name: ≤ 63.
    metadata: { type: "object", properties: { name: { type: "string", maxLength: 63 } } },
    spec: servingEndpointSpecSchema,
    status: servingEndpointStatusSchema,
  },
  // The API server already holds the name to an RFC 1123 subdomain; without dots and ≤ 63 that is a DNS label,
  // what the gateway can route (`/serving-endpoints/{name}`, backend `be_{name}`; limits.ts).
  "x-kubernetes-validations": [
    {
      rule: `size(self.metadata.name) <= ${ENDPOINT_NAME_MAX_LENGTH} && !self.metadata.name.contains('.')`,
      message: `metadata.name must be a DNS label (lower-case letters, digits and '-', at most ${ENDPOINT_NAME_MAX_LENGTH} characters, no '.'): it is the endpoint's URL segment at the gateway`,
      fieldPath: ".metadata.name",
    },
  ],
};

/** A printer column of `kubectl get servingendpoints`. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: "integer" | "number" | "string" | "boolean" | "date";
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

/** Columns: READY (the Ready condition), PODS (ready), DESIRED, TARGET (concurrency), QPS, AGE; `-o wide` adds REASON, RUNTIME and POOL. */
export const printerColumns: readonly PrinterColumn[] = [
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "The Ready condition's status." },
  { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: "Why the endpoint is (not) ready.", priority: 1 },
  { name: "Pods", type: "integer", jsonPath: ".status.readyReplicas", description: "Pods ready to serve." },
  { name: "Desired", type: "integer", jsonPath: ".status.desiredReplicas", description: "Autoscaler's desired replicas." },
  {
    name: "Target",
    type: "integer",
    jsonPath: ".status.targetConcurrency",
    description: "Per-pod target concurrency.",
  },
  { name: "QPS", type: "number", jsonPath: ".status.observedQps", description: "Requests per second." },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation." },
  { name: "Runtime", type: "string", jsonPath: ".spec.runtime.kind", description: "Model server.", priority: 1 },
  { name: "Pool", type: "string", jsonPath: ".spec.computePool", description: "Compute pool.", priority: 1 },
];

/** The CRD object as plain JSON (no Pulumi or client types), ready to apply. */
export interface ServingEndpointCrd {
  readonly apiVersion: "apiextensions.k8s.io/v1";
  readonly kind: "CustomResourceDefinition";
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly group: string;
    readonly scope: "Namespaced";
    readonly names: {
      readonly kind: string;
      readonly listKind: string;
      readonly plural: string;
      readonly singular: string;
      readonly shortNames: readonly string[];
      readonly categories: readonly string[];
    };
    readonly versions: readonly {
      readonly name: string;
      readonly served: boolean;
      readonly storage: boolean;
      readonly schema: { readonly openAPIV3Schema: OpenApiSchema };
      readonly subresources: {
        readonly status: Record<string, never>;
        readonly scale: {
          readonly specReplicasPath: string;
          readonly statusReplicasPath: string;
          readonly labelSelectorPath: string;
        };
      };
      readonly additionalPrinterColumns: readonly PrinterColumn[];
    }[];
  };
}

/**
 * The ServingEndpoint CRD. The scale subresource maps `kubectl scale servingendpoint/x --replicas=N` (and HPA's or
 * KEDA's writes) onto `spec.replicas.desired`, a field nothing else writes: the controller keeps at least that many
 * replicas and keeps autoscaling up to `spec.replicas.max`; the user's bounds stay as declared. Its status side
 * reads `status.replicas` and `status.selector`.
 */
export function servingEndpointCrd(): ServingEndpointCrd {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${SERVING_PLURAL}.${SERVING_GROUP}`,
      labels: { "app.kubernetes.io/part-of": "autopilot-serving" },
    },
    spec: {
      group: SERVING_GROUP,
      scope: "Namespaced",
      names: {
        kind: SERVING_KIND,
        listKind: `${SERVING_KIND}List`,
        plural: SERVING_PLURAL,
        singular: SERVING_SINGULAR,
        shortNames: SERVING_SHORT_NAMES,
        categories: ["autopilot", "serving"],
      },
      versions: [
        {
          name: SERVING_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: servingEndpointSchema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: ".spec.replicas.desired",
              statusReplicasPath: ".status.replicas",
              labelSelectorPath: ".status.selector",
            },
          },
          additionalPrinterColumns: printerColumns,
        },
      ],
    },
  };
}
