/** The controller's four list+watch caches (ServingEndpoints, endpoint Deployments, EndpointSlices, warm pools). */
import type { V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import type { ServingEndpoint } from "../contract/crd/types.ts";
import type { Clock } from "./clock.ts";
import { PATHS, type KubeApi } from "./kube-api.ts";
import { ENDPOINT_LABEL, WARM_POOL_LABEL } from "../contract/labels.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./own-metrics.ts";
import { Reflector, type ChangeType } from "./reflector.ts";

export interface Caches {
  readonly endpoints: Reflector<ServingEndpoint>;
  readonly deployments: Reflector<V1Deployment>;
  readonly slices: Reflector<V1EndpointSlice>;
  readonly warmPools: Reflector<V1Deployment>;
}

export function makeCaches(
  deps: { readonly api: KubeApi; readonly clock: Clock; readonly log: Logger; readonly metrics: ControllerMetrics; readonly delayFn?: (ms: number) => Promise<void> },
  onDeploymentChange: (type: ChangeType, d: V1Deployment) => void,
): Caches {
  const common = { watch: deps.api.watch, delayFn: deps.delayFn ?? ((ms: number) => deps.clock.sleep(ms)), log: deps.log };
  const onError = (resource: string) => () => deps.metrics.watchErrors.inc({ resource });
  return {
    endpoints: new Reflector<ServingEndpoint>({
      ...common,
      name: "servingendpoints",
      path: PATHS.servingEndpoints,
      list: () => deps.api.listServingEndpoints(),
      onError: onError("servingendpoints"),
    }),
    deployments: new Reflector<V1Deployment>({
      ...common,
      name: "deployments",
      path: PATHS.deployments,
      labelSelector: ENDPOINT_LABEL,
      list: () => deps.api.listDeployments(ENDPOINT_LABEL),
      onError: onError("deployments"),
      onChange: onDeploymentChange,
    }),
    slices: new Reflector<V1EndpointSlice>({
      ...common,
      name: "endpointslices",
      path: PATHS.endpointSlices,
      labelSelector: ENDPOINT_LABEL,
      list: () => deps.api.listEndpointSlices(ENDPOINT_LABEL),
      onError: onError("endpointslices"),
    }),
    warmPools: new Reflector<V1Deployment>({
      ...common,
      name: "warm-pools",
      path: PATHS.deployments,
      labelSelector: WARM_POOL_LABEL,
      list: () => deps.api.listDeployments(WARM_POOL_LABEL),
      onError: onError("warm-pools"),
    }),
  };
}
