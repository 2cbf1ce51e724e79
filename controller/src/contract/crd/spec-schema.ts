/**
 * OpenAPI v3 schema of `ServingEndpoint.spec`, with the CEL rules the API server enforces. The one source of
 * truth: the CRD (`crd.ts`), the validator (`validate.ts`) and the Pulumi component all read it from here.
 * Each rule's message names the field; `messageExpression` also quotes the offending values, with the CEL
 * strings library's `format` (the API server's cost estimate of `'…' + string(int) + '…'` is unbounded, and a
 * CRD carrying one is refused: "estimated messageExpression cost exceeds budget by factor of more than 100x").
 */
import type { CelRule, OpenApiSchema } from "./openapi-types.ts";
import { MODEL_DTYPES, MODEL_FLAVORS, RUNTIME_KINDS } from "./types.ts";

import { MAX_CONCURRENCY_LIMIT, MAX_REPLICAS_LIMIT } from "./limits.ts";

export { MAX_CONCURRENCY_LIMIT, MAX_REPLICAS_LIMIT };
/** Most model versions one endpoint can split traffic across. */
export const MAX_TRAFFIC_TARGETS = 16;

const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/**
 * Model URIs the model cache's init container reads: an object-store bucket (`s3://<bucket>/…`, `gs://<bucket>/…`,
 * the bucket a bucket name) or an MLflow reference without a host (`models:/<name>/<version>`, `models:/<name>@<alias>`,
 * `runs:/<run>/<path>`). Nothing else: no http(s)://, file:// or hf://, and no host of any kind (a link-local or
 * other address cannot be named).
 */
export const MODEL_URI = "^((s3|gs)://[a-z0-9]([a-z0-9._-]{0,220}[a-z0-9])?(/\\S*)?|(models|runs):/[^/\\s]\\S*)$";

/** CEL: an IP-address "bucket" (e.g. the link-local metadata address 169.254.169.254) is not a bucket. */
function bucketNotAnAddress(field: string, fieldPath: string): CelRule {
  return {
    rule: `!self${fieldPath}.matches('^(s3|gs)://[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+(/|$)')`,
    message: `${field} must name a bucket, not an IP address`,
    fieldPath,
    reason: "FieldValueInvalid",
  };
}

function intRange(field: string, what: string, minFloor: number, maxCeiling: number): OpenApiSchema {
  return {
    type: "object",
    description: `Inclusive range of ${what}.`,
    required: ["min", "max"],
    properties: {
      min: {
        type: "integer",
        format: "int32",
        minimum: minFloor,
        maximum: maxCeiling,
        description: `Lowest ${what}.`,
      },
      max: {
        type: "integer",
        format: "int32",
        minimum: 1,
        maximum: maxCeiling,
        description: `Highest ${what}.`,
      },
    },
    "x-kubernetes-validations": [
      {
        rule: "self.min <= self.max",
        message: `${field}.min must be less than or equal to ${field}.max`,
        messageExpression: `'${field}.min (%d) must be less than or equal to ${field}.max (%d)'.format([self.min, self.max])`,
        fieldPath: ".min",
        reason: "FieldValueInvalid",
      },
    ],
  };
}

/**
 * Replica bounds plus `desired`, the field the scale subresource owns (`specReplicasPath`): what HPA, KEDA or
 * `kubectl scale` ask for. The controller treats it as a floor inside min..max; 0 (the default) asks for nothing.
 * It has a default because the API server answers a scale read of an absent `specReplicasPath` with HTTP 500.
 */
function replicaRange(): OpenApiSchema {
  const range = intRange("spec.replicas", "replicas; min may be 0 only with scaleToZero", 0, MAX_REPLICAS_LIMIT);
  return {
    ...range,
    properties: {
      ...range.properties,
      desired: {
        type: "integer",
        format: "int32",
        minimum: 0,
        maximum: MAX_REPLICAS_LIMIT,
        default: 0,
        description:
          "Replicas asked for through the scale subresource (HPA, KEDA, kubectl scale): a floor for the autoscaler within min..max; 0 asks for nothing. Default 0.",
      },
    },
    "x-kubernetes-validations": [
      ...(range["x-kubernetes-validations"] ?? []),
      {
        rule: "!has(self.desired) || self.desired == 0 || (self.min <= self.desired && self.desired <= self.max)",
        message: "spec.replicas.desired must be 0 or between spec.replicas.min and spec.replicas.max",
        messageExpression:
          "'spec.replicas.desired (%d) must be 0 or between spec.replicas.min (%d) and spec.replicas.max (%d)'.format([self.desired, self.min, self.max])",
        fieldPath: ".desired",
        reason: "FieldValueInvalid",
      },
    ],
  };
}

const modelSchema: OpenApiSchema = {
  type: "object",
  description: "The model to serve: where it is, what flavor it is and how big it is.",
  required: ["uri", "flavor"],
  properties: {
    uri: {
      type: "string",
      minLength: 1,
      maxLength: 2048,
      pattern: MODEL_URI,
      description:
        "Location of the model artifact: s3://<bucket>/…, gs://<bucket>/…, models:/ (MLflow registry) or runs:/ (MLflow run).",
    },
    flavor: {
      type: "string",
      enum: MODEL_FLAVORS,
      description: "MLflow flavor or weight-format family; with the size it selects the runtime when runtime.kind is auto.",
    },
    format: {
      type: "string",
      maxLength: 64,
      description: "Artifact format detail, e.g. safetensors, gguf, savedmodel, torchscript. Informational.",
    },
    size: {
      type: "object",
      description: "Model size; drives runtime and GPU selection (parameter count × dtype bytes = weight bytes).",
      properties: {
        parameterCount: {
          type: "integer",
          format: "int64",
          minimum: 1,
          description: "Number of parameters, e.g. 70000000000 for a 70B model. Set together with dtype.",
        },
        dtype: {
          type: "string",
          enum: MODEL_DTYPES,
          description: "Numeric type of the weights. Set together with parameterCount.",
        },
        bytes: {
          type: "integer",
          format: "int64",
          minimum: 1,
          description: "Size of the model artifact in bytes.",
        },
      },
      "x-kubernetes-validations": [
        {
          rule: "has(self.parameterCount) == has(self.dtype)",
          message: "spec.model.size.parameterCount and spec.model.size.dtype must be set together",
          reason: "FieldValueRequired",
        },
      ],
    },
  },
  "x-kubernetes-validations": [bucketNotAnAddress("spec.model.uri", ".uri")],
};

const runtimeSchema: OpenApiSchema = {
  type: "object",
  description:
    "Model server. auto picks from the model's flavor and size (MLflow scoring server for classic ML, vLLM for LLMs, Triton for ONNX/TensorRT and other deep-learning formats); the others pin one.",
  default: { kind: "auto" },
  properties: {
    kind: {
      type: "string",
      enum: RUNTIME_KINDS,
      default: "auto",
      description: "auto | mlflow | vllm | triton | custom. Default auto.",
    },
    image: {
      type: "string",
      minLength: 1,
      maxLength: 512,
      pattern: "^\\S+$",
      description: "Container image. Required for custom; an override for mlflow, vllm and triton; not allowed for auto. Pin by digest.",
    },
  },
  "x-kubernetes-validations": [
    {
      rule: "self.kind != 'custom' || has(self.image)",
      message: "spec.runtime.image is required when spec.runtime.kind is custom",
      fieldPath: ".image",
      reason: "FieldValueRequired",
    },
    {
      rule: "self.kind != 'auto' || !has(self.image)",
      message: "spec.runtime.image must not be set when spec.runtime.kind is auto; choose mlflow, vllm, triton or custom to pin an image",
      fieldPath: ".image",
      reason: "FieldValueForbidden",
    },
  ],
};

/** Payload logging (inference tables): the gateway records a sample of requests with their bodies. */
const payloadLoggingSchema: OpenApiSchema = {
  type: "object",
  required: ["sampleRate"],
  description: "Payload logging: a sample of requests recorded with their size-capped, redacted bodies as JSONL objects in the environment's bucket (endpoint/date/hour). Absent: off.",
  properties: {
    sampleRate: { type: "number", minimum: 0, maximum: 1, description: "Share of requests recorded, (0, 1]." },
    maxBodyBytes: { type: "integer", format: "int32", minimum: 1, maximum: 12000, default: 8192, description: "Bytes kept of each body (request and response), 1–12000 (their base64 must fit the gateway's buffer). Default 8192." },
    redactFields: {
      type: "array", maxItems: 64, "x-kubernetes-list-type": "set",
      items: { type: "string", minLength: 1, maxLength: 128, description: "A JSON key name." },
      description: "JSON object keys whose values are replaced by \"[REDACTED]\" at any depth of either body.",
    },
  },
  "x-kubernetes-validations": [
    { rule: "self.sampleRate > 0.0", message: "spec.payloadLogging.sampleRate must be above 0 (remove payloadLogging to turn it off)", fieldPath: ".sampleRate", reason: "FieldValueInvalid" },
  ],
};

const trafficSplitSchema: OpenApiSchema = {
  type: "array",
  description: "Share of requests per model version. Absent: all traffic goes to spec.model. Weights sum to 100.",
  minItems: 1,
  maxItems: MAX_TRAFFIC_TARGETS,
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["version"],
  items: {
    type: "object",
    description: "One model version and its share of the traffic.",
    required: ["version", "modelUri", "weight"],
    properties: {
      version: {
        type: "string",
        minLength: 1,
        maxLength: 63,
        pattern: DNS_LABEL,
        description: "Version label, unique in the list (DNS label, e.g. v3).",
      },
      modelUri: {
        type: "string",
        minLength: 1,
        maxLength: 2048,
        pattern: MODEL_URI,
        description: "Model URI of this version (same schemes as spec.model.uri).",
      },
      weight: {
        type: "integer",
        format: "int32",
        minimum: 0,
        maximum: 100,
        description: "Percent of requests, 0-100.",
      },
    },
    "x-kubernetes-validations": [bucketNotAnAddress("spec.trafficSplit[].modelUri", ".modelUri")],
  },
  "x-kubernetes-validations": [
    {
      rule: "self.map(t, t.weight).sum() == 100",
      message: "spec.trafficSplit weights must sum to 100",
      messageExpression: "'spec.trafficSplit weights must sum to 100, got %d'.format([self.map(t, t.weight).sum()])",
      reason: "FieldValueInvalid",
    },
    {
      rule: "self.all(a, self.exists_one(b, b.version == a.version))",
      message: "spec.trafficSplit[].version must be unique",
      // Not FieldValueDuplicate: the API server prints that reason as a bare "Duplicate value", without the message.
      reason: "FieldValueInvalid",
    },
  ],
};

/** Schema of `spec`. */
export const servingEndpointSpecSchema: OpenApiSchema = {
  type: "object",
  description:
    "What to serve and the autoscaler's bounds. The APA controller picks replicas and per-pod concurrency inside these bounds.",
  required: ["model", "computePool", "concurrency", "replicas"],
  properties: {
    model: modelSchema,
    runtime: runtimeSchema,
    computePool: {
      type: "string",
      minLength: 1,
      maxLength: 63,
      pattern: DNS_LABEL,
      description: "Name of the node pool (compute pool) the pods run on; node selector and tolerations come from it.",
    },
    concurrency: intRange(
      "spec.concurrency",
      "per-pod target concurrency (requests one pod serves at once) the autoscaler may choose",
      1,
      MAX_CONCURRENCY_LIMIT,
    ),
    replicas: replicaRange(),
    provisionedConcurrency: {
      type: "integer",
      format: "int32",
      minimum: 0,
      default: 0,
      description:
        "Concurrency that is always ready (a floor of ready capacity, for models that cannot take a cold start). At most replicas.max × concurrency.max. Default 0.",
    },
    scaleToZero: {
      type: "boolean",
      default: false,
      description: "Scale to zero replicas when idle; requires provisionedConcurrency 0. Default false.",
    },
    sloP99Ms: {
      type: "integer",
      format: "int32",
      minimum: 1,
      description: "Latency objective at p99 in milliseconds; sharpens the vertical (concurrency) axis. Optional.",
    },
    trafficSplit: trafficSplitSchema,
    payloadLogging: payloadLoggingSchema,
  },
  "x-kubernetes-validations": [
    {
      rule: "self.replicas.min > 0 || self.scaleToZero",
      message: "spec.replicas.min may be 0 only when spec.scaleToZero is true",
      fieldPath: ".replicas.min",
      reason: "FieldValueInvalid",
    },
    {
      rule: "self.provisionedConcurrency <= self.replicas.max * self.concurrency.max",
      message:
        "spec.provisionedConcurrency must be at most spec.replicas.max × spec.concurrency.max (the endpoint's maximum capacity)",
      messageExpression:
        "'spec.provisionedConcurrency (%d) must be at most spec.replicas.max × spec.concurrency.max (%d)'.format([self.provisionedConcurrency, self.replicas.max * self.concurrency.max])",
      fieldPath: ".provisionedConcurrency",
      reason: "FieldValueInvalid",
    },
    {
      rule: "!self.scaleToZero || self.provisionedConcurrency == 0",
      message: "spec.provisionedConcurrency must be 0 when spec.scaleToZero is true",
      fieldPath: ".provisionedConcurrency",
      reason: "FieldValueInvalid",
    },
    {
      rule: "self.runtime.kind != 'vllm' || self.model.flavor in ['transformers', 'llm']",
      message: "spec.runtime.kind vllm needs spec.model.flavor transformers or llm",
      fieldPath: ".runtime.kind",
      reason: "FieldValueInvalid",
    },
    {
      rule: "self.model.flavor != 'custom' || self.runtime.kind == 'custom'",
      message: "spec.model.flavor custom needs spec.runtime.kind custom (with spec.runtime.image)",
      fieldPath: ".runtime.kind",
      reason: "FieldValueInvalid",
    },
    {
      rule: "self.runtime.kind != 'triton' || self.model.flavor in ['onnx', 'tensorrt', 'pytorch', 'tensorflow']",
      message: "spec.runtime.kind triton needs spec.model.flavor onnx, tensorrt, pytorch or tensorflow",
      fieldPath: ".runtime.kind",
      reason: "FieldValueInvalid",
    },
  ],
};
