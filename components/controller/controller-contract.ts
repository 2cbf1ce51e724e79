/**
 * WIRING POINT to the controller package (CONTROLLER issue): the ServingEndpoint CRD object
 * (`servingEndpointCrd()` from controller/src/crd — wired), the controller's cluster-wide RBAC rules
 * (controller/src/kube — not in main yet: `clusterRules` is undefined and no ClusterRole is deployed; `npm run
 * plan` reports the gap) and its command line.
 */
import { servingEndpointCrd } from "../../controller/src/crd/index.ts";
import type { KubeObject } from "../types.ts";

/** What the platform needs from the controller package. */
export interface ControllerContract {
  /** The CustomResourceDefinition object. */
  readonly crd: KubeObject;
  /** ClusterRole rules the controller needs; undefined until the controller's RBAC object is in main. */
  readonly clusterRules?: readonly KubeObject[];
  /** Container args (leader election on). */
  readonly args: readonly string[];
}

/** The contract. */
export function controllerContract(): ControllerContract {
  return { crd: servingEndpointCrd() as unknown as KubeObject, args: ["--leader-elect"] };
}
