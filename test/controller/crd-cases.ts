/**
 * The good and bad ServingEndpoint objects of the CRD tests, with the messages each bad one must produce. The
 * same cases are checked by the validator (test/controller/crd.test.ts) and by a real kube-apiserver with the
 * CRD applied (test/cluster/crd.test.ts): both must give the same verdicts.
 */
import { MODEL_URI } from "../../controller/src/contract/crd/spec-schema.ts";

export const base = {
  apiVersion: "serving.autopilot.dev/v1alpha1",
  kind: "ServingEndpoint",
  metadata: { name: "fraud", namespace: "ep-fraud" },
  spec: {
    model: { uri: "s3://models/fraud/3", flavor: "sklearn" },
    computePool: "cpu",
    concurrency: { min: 1, max: 8 },
    replicas: { min: 1, max: 10 },
  },
};

type Spec = Record<string, unknown>;
function withSpec(patch: (spec: Spec) => void, top?: (obj: Record<string, unknown>) => void): unknown {
  const obj = structuredClone(base) as unknown as Record<string, unknown>;
  patch(obj["spec"] as Spec);
  top?.(obj);
  return obj;
}

/**
 * `status: true`: the case is about `status`, which the API server ignores on create (status subresource); a
 * real server gets it as a status-subresource write instead.
 */
export interface CrdCase {
  readonly name: string;
  readonly input: unknown;
  readonly status?: true;
}

export const GOOD_SERVING_ENDPOINTS: readonly CrdCase[] = [
  { name: "minimal sklearn endpoint", input: base },
  {
    name: "70B LLM on vLLM with traffic split",
    input: withSpec((s) => {
      s["model"] = { uri: "models:/llama-3-70b@champion", flavor: "llm", size: { parameterCount: 70_000_000_000, dtype: "bfloat16", bytes: 141_000_000_000 } };
      s["runtime"] = { kind: "vllm", image: "vllm/vllm-openai@sha256:abc" };
      s["computePool"] = "gpu-h100";
      s["concurrency"] = { min: 8, max: 256 };
      s["replicas"] = { min: 1, max: 4 };
      s["provisionedConcurrency"] = 64;
      s["sloP99Ms"] = 2000;
      s["trafficSplit"] = [
        { version: "v1", modelUri: "gs://models-eu/llama-3-70b/v1/", weight: 90 },
        { version: "v2", modelUri: "s3://models/llama-ft/2", weight: 10 },
      ];
    }),
  },
  {
    name: "scale to zero with min 0",
    input: withSpec((s) => {
      s["replicas"] = { min: 0, max: 3 };
      s["scaleToZero"] = true;
    }),
  },
  {
    name: "custom runtime with image",
    input: withSpec((s) => {
      s["model"] = { uri: "models:/agent/7", flavor: "custom" };
      s["runtime"] = { kind: "custom", image: "ghcr.io/acme/agent@sha256:1234" };
    }),
  },
  { name: "provisioned exactly at max capacity", input: withSpec((s) => void (s["provisionedConcurrency"] = 80)) },
  { name: "scale subresource replicas within the bounds", input: withSpec((s) => void (s["replicas"] = { min: 1, max: 10, desired: 10 })) },
  {
    name: "model URIs of every documented scheme (bucket names with dots and hyphens, MLflow references)",
    input: withSpec((s) => {
      s["model"] = { uri: "s3://acme.models-eu_1/fraud/3/", flavor: "sklearn" };
      s["trafficSplit"] = [
        { version: "v1", modelUri: "gs://acme-models/fraud/1", weight: 40 },
        { version: "v2", modelUri: "models:/fraud@champion", weight: 30 },
        { version: "v3", modelUri: "runs:/5f2c1e9a/model", weight: 30 },
      ];
    }),
  },
  {
    name: "status written by the controller",
    status: true,
    input: withSpec(
      () => {},
      (o) => {
        o["status"] = {
          observedGeneration: 3,
          replicas: 4,
          readyReplicas: 3,
          desiredReplicas: 4,
          targetConcurrency: 6,
          observedConcurrency: 17.5,
          observedQps: 120.25,
          lastScaleTime: "2026-11-22T17:00:00Z",
          selector: "serving.autopilot.dev/endpoint=fraud",
          conditions: [{ type: "Ready", status: "True", reason: "ScaleUp", message: "ok", lastTransitionTime: "2026-11-22T17:00:00Z" }],
        };
      },
    ),
  },
];

/** A spec whose model URI is `uri`: refused by the schema's pattern (the message the API server words). */
const refusedScheme = (uri: string): CrdCase & { readonly want: readonly string[] } => ({
  name: `model URI ${uri}: not a documented scheme`,
  input: withSpec((s) => void (s["model"] = { uri, flavor: "sklearn" })),
  want: [`spec.model.uri: Invalid value: ${JSON.stringify(uri)}: spec.model.uri in body should match '${MODEL_URI}'`],
});

export const BAD_SERVING_ENDPOINTS: readonly (CrdCase & { readonly want: readonly string[] })[] = [
  refusedScheme("http://models.internal/fraud/3"),
  refusedScheme("https://example.com/fraud.onnx"),
  refusedScheme("file:///etc/passwd"),
  refusedScheme("hf://meta-llama/Llama-3-70B"),
  // an MLflow reference with a host (a tracking server of the user's choosing)
  refusedScheme("models://169.254.169.254/fraud/3"),
  refusedScheme("s3://Models/fraud"),
  {
    name: "model URI whose bucket is the link-local metadata address",
    input: withSpec((s) => void (s["model"] = { uri: "s3://169.254.169.254/latest/meta-data/", flavor: "sklearn" })),
    want: ["spec.model.uri: Invalid value: spec.model.uri must name a bucket, not an IP address"],
  },
  {
    name: "traffic-split model URI whose bucket is an IP address",
    input: withSpec((s) => void (s["trafficSplit"] = [{ version: "v1", modelUri: "gs://10.0.0.7/fraud/1", weight: 100 }])),
    want: ["spec.trafficSplit[0].modelUri: Invalid value: spec.trafficSplit[].modelUri must name a bucket, not an IP address"],
  },
  {
    name: "name longer than a label value (63)",
    input: withSpec(() => {}, (o) => void ((o["metadata"] as Record<string, unknown>)["name"] = "a".repeat(64))),
    want: ["metadata.name: Too long: may not be more than 63 bytes"],
  },
  {
    name: "CEL: replicas min > max",
    input: withSpec((s) => void (s["replicas"] = { min: 5, max: 3 })),
    want: ['spec.replicas.min: Invalid value: spec.replicas.min (5) must be less than or equal to spec.replicas.max (3)'],
  },
  {
    name: "CEL: scale subresource replicas over the maximum",
    input: withSpec((s) => void (s["replicas"] = { min: 2, max: 10, desired: 11 })),
    want: ['spec.replicas.desired: Invalid value: spec.replicas.desired (11) must be 0 or between spec.replicas.min (2) and spec.replicas.max (10)'],
  },
  {
    name: "CEL: scale subresource replicas under the minimum",
    input: withSpec((s) => void (s["replicas"] = { min: 2, max: 10, desired: 1 })),
    want: ['spec.replicas.desired: Invalid value: spec.replicas.desired (1) must be 0 or between spec.replicas.min (2) and spec.replicas.max (10)'],
  },
  {
    name: "CEL: concurrency min > max",
    input: withSpec((s) => void (s["concurrency"] = { min: 16, max: 4 })),
    want: ['spec.concurrency.min: Invalid value: spec.concurrency.min (16) must be less than or equal to spec.concurrency.max (4)'],
  },
  {
    name: "CEL: provisioned concurrency over max capacity",
    input: withSpec((s) => void (s["provisionedConcurrency"] = 81)),
    want: [
      'spec.provisionedConcurrency: Invalid value: spec.provisionedConcurrency (81) must be at most spec.replicas.max × spec.concurrency.max (80)',
    ],
  },
  {
    name: "CEL: min 0 without scaleToZero",
    input: withSpec((s) => void (s["replicas"] = { min: 0, max: 3 })),
    want: ['spec.replicas.min: Invalid value: spec.replicas.min may be 0 only when spec.scaleToZero is true'],
  },
  {
    name: "CEL: scaleToZero with provisioned concurrency",
    input: withSpec((s) => {
      s["replicas"] = { min: 0, max: 3 };
      s["scaleToZero"] = true;
      s["provisionedConcurrency"] = 4;
    }),
    want: ['spec.provisionedConcurrency: Invalid value: spec.provisionedConcurrency must be 0 when spec.scaleToZero is true'],
  },
  {
    name: "CEL: traffic split does not sum to 100, duplicate versions",
    input: withSpec(
      (s) =>
        void (s["trafficSplit"] = [
          { version: "v1", modelUri: "s3://m/1", weight: 50 },
          { version: "v1", modelUri: "s3://m/2", weight: 40 },
        ]),
    ),
    want: [
      'spec.trafficSplit[1]: Duplicate value: {"version":"v1"}',
      'spec.trafficSplit: Invalid value: spec.trafficSplit weights must sum to 100, got 90',
      'spec.trafficSplit: Invalid value: spec.trafficSplit[].version must be unique',
    ],
  },
  {
    name: "CEL: custom runtime without image",
    input: withSpec((s) => {
      s["model"] = { uri: "s3://m/agent", flavor: "custom" };
      s["runtime"] = { kind: "custom" };
    }),
    want: ['spec.runtime.image: Required value: spec.runtime.image is required when spec.runtime.kind is custom'],
  },
  {
    name: "CEL: image with auto runtime",
    input: withSpec((s) => void (s["runtime"] = { kind: "auto", image: "x/y:1" })),
    want: [
      'spec.runtime.image: Forbidden: spec.runtime.image must not be set when spec.runtime.kind is auto; choose mlflow, vllm, triton or custom to pin an image',
    ],
  },
  {
    name: "CEL: vllm for a sklearn model",
    input: withSpec((s) => void (s["runtime"] = { kind: "vllm" })),
    want: ['spec.runtime.kind: Invalid value: spec.runtime.kind vllm needs spec.model.flavor transformers or llm'],
  },
  {
    name: "CEL: triton for an xgboost model",
    input: withSpec((s) => {
      s["model"] = { uri: "s3://m/x", flavor: "xgboost" };
      s["runtime"] = { kind: "triton" };
    }),
    want: ['spec.runtime.kind: Invalid value: spec.runtime.kind triton needs spec.model.flavor onnx, tensorrt, pytorch or tensorflow'],
  },
  {
    name: "CEL: custom flavor on auto runtime",
    input: withSpec((s) => void (s["model"] = { uri: "s3://m/x", flavor: "custom" })),
    want: ['spec.runtime.kind: Invalid value: spec.model.flavor custom needs spec.runtime.kind custom (with spec.runtime.image)'],
  },
  {
    name: "CEL: parameterCount without dtype",
    input: withSpec((s) => void (s["model"] = { uri: "runs:/0a1b2c/model", flavor: "llm", size: { parameterCount: 7_000_000_000 } })),
    want: ['spec.model.size: Required value: spec.model.size.parameterCount and spec.model.size.dtype must be set together'],
  },
  {
    name: "OpenAPI: missing required fields and unknown field",
    input: withSpec((s) => {
      delete s["computePool"];
      s["replica"] = 3;
    }),
    want: ["spec.computePool: Required value", "spec.replica: unknown field \"spec.replica\""],
  },
  {
    name: "OpenAPI: enum, type, minimum, pattern",
    input: withSpec((s) => {
      s["runtime"] = { kind: "tgi" };
      s["replicas"] = { min: -1, max: "ten" };
      s["computePool"] = "GPU_pool";
      s["model"] = { uri: "ftp://x", flavor: "sklearn" };
    }),
    want: [
      `spec.model.uri: Invalid value: "ftp://x": spec.model.uri in body should match '${MODEL_URI}'`,
      'spec.runtime.kind: Unsupported value: "tgi": supported values: "auto", "mlflow", "vllm", "triton", "custom"',
      "spec.computePool: Invalid value: \"GPU_pool\": spec.computePool in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
      "spec.replicas.min: Invalid value: -1: spec.replicas.min in body should be greater than or equal to 0",
      'spec.replicas.max: Invalid value: "string": spec.replicas.max in body must be of type integer: "string"',
    ],
  },
  {
    name: "OpenAPI: traffic weight over 100",
    input: withSpec((s) => void (s["trafficSplit"] = [{ version: "v1", modelUri: "s3://m/1", weight: 101 }])),
    want: [
      "spec.trafficSplit[0].weight: Invalid value: 101: spec.trafficSplit[0].weight in body should be less than or equal to 100",
      "spec.trafficSplit: Invalid value: spec.trafficSplit weights must sum to 100, got 101",
    ],
  },
  {
    name: "wrong apiVersion and kind, missing name",
    input: withSpec(
      () => {},
      (o) => {
        o["apiVersion"] = "serving.autopilot.dev/v1";
        o["kind"] = "Endpoint";
        o["metadata"] = {};
      },
    ),
    want: [
      'apiVersion: Unsupported value: "serving.autopilot.dev/v1": supported values: "serving.autopilot.dev/v1alpha1"',
      'kind: Unsupported value: "Endpoint": supported values: "ServingEndpoint"',
      "metadata.name: Required value",
    ],
  },
  {
    name: "status with a bad time",
    status: true,
    input: withSpec(
      () => {},
      (o) => void (o["status"] = { lastScaleTime: "yesterday" }),
    ),
    want: ['status.lastScaleTime: Invalid value: "yesterday": status.lastScaleTime in body must be of type date-time: "yesterday"'],
  },
];
