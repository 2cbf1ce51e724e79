/**
 * The ServingEndpoint custom resource of one declared endpoint (what the APA controller reconciles). Group,
 * version and kind come from the CRD source of truth (controller/src/contract/crd); `test/infra/kube-schemas.test.ts`
 * validates every rendered CR against that CRD.
 */
import { SERVING_API_VERSION, SERVING_KIND } from "../../controller/src/contract/crd/index.ts";
import type { PlannedEndpoint } from "../validate-endpoints.ts";
import type { KubeObject } from "../types.ts";
import { endpointLabels, endpointNamespace } from "./endpoint-spec.ts";


/**
 * The custom resource. `uri(version)` gives a version's model URI (`<store>/<endpoint>/<version>/`; may be a Pulumi
 * Output). Traffic weights come from the declaration.
 */
export function buildServingEndpointCr(ep: PlannedEndpoint, uri: (version: string) => unknown): KubeObject {
  const { decl, plan } = ep;
  const first = decl.versions[0]!;
  const size: Record<string, unknown> = { bytes: Math.round(plan.weightBytes) };
  if (decl.model.parameterCount !== undefined) size.parameterCount = decl.model.parameterCount;
  if (decl.model.dtype !== undefined) size.dtype = decl.model.dtype;
  return {
    apiVersion: SERVING_API_VERSION, kind: SERVING_KIND,
    metadata: { name: decl.name, namespace: endpointNamespace(decl.name), labels: endpointLabels(decl.name) },
    spec: {
      model: { uri: uri(first.version), flavor: decl.model.flavor, ...(decl.model.format !== undefined ? { format: decl.model.format } : {}), size },
      runtime: { kind: plan.kind, image: plan.image },
      computePool: decl.computePool,
      concurrency: { ...decl.concurrency },
      replicas: { ...decl.replicas },
      provisionedConcurrency: decl.provisionedConcurrency ?? 0,
      scaleToZero: decl.scaleToZero ?? false,
      ...(decl.sloP99Ms !== undefined ? { sloP99Ms: decl.sloP99Ms } : {}),
      ...(decl.payloadLogging !== undefined ? { payloadLogging: decl.payloadLogging } : {}),
      trafficSplit: decl.versions.map((v) => ({ version: v.version, modelUri: uri(v.version), weight: v.weight })),
    },
  };
}
