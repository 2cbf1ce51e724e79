/**
 * WIRING POINT to the controller package (CONTROLLER issue): the ServingEndpoint CRD object, the
 * controller's cluster-wide RBAC rules and its command line. Until `controller/src/crd/` and
 * `controller/src/kube/` are in main, `controllerContract()` returns `undefined` and the platform deploys the
 * controller without CRD and ClusterRole (reported as a gap by `npm run plan`).
 */
import type { KubeObject } from "../types.ts";

/** What the platform needs from the controller package. */
export interface ControllerContract {
  /** The CustomResourceDefinition object (`servingEndpointCrd()`). */
  readonly crd: KubeObject;
  /** ClusterRole rules the controller needs. */
  readonly clusterRules: readonly KubeObject[];
  /** Container args (leader election on). */
  readonly args: readonly string[];
}

/** The contract, or undefined while the controller package has not landed. */
export function controllerContract(): ControllerContract | undefined {
  return undefined;
}
