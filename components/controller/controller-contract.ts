/**
 * What the platform takes from the controller package (controller/src): the ServingEndpoint CRD
 * (`servingEndpointCrd()`), the least-privilege RBAC objects of the controller and of the gateway agent
 * (`controllerRbac()`, `gatewayAgentRbac()`), and the two commands of the one image built from
 * controller/Dockerfile.
 */
import { servingEndpointCrd } from "../../controller/src/contract/crd/index.ts";
import { controllerRbac, gatewayAgentRbac } from "../../controller/src/contract/rbac.ts";
import { type KubeObject, PLATFORM } from "../types.ts";

/** Controller ServiceAccount, Lease name, the gateway agent's ServiceAccount and entry point (the contract's). */
export {
  CONTROLLER_LEASE,
  CONTROLLER_SERVICE_ACCOUNT as CONTROLLER_SA,
  GATEWAY_AGENT_ENTRY,
  GATEWAY_AGENT_SERVICE_ACCOUNT as GATEWAY_AGENT_SA,
} from "../../controller/src/contract/names.ts";
import { CONTROLLER_LEASE, CONTROLLER_SERVICE_ACCOUNT as CONTROLLER_SA, GATEWAY_AGENT_SERVICE_ACCOUNT as GATEWAY_AGENT_SA } from "../../controller/src/contract/names.ts";

/** What the platform needs from the controller package. */
export interface ControllerContract {
  /** The CustomResourceDefinition object. */
  readonly crd: KubeObject;
  /** ServiceAccount, ClusterRole(+Binding), Lease Role(+Binding) of the controller, and its Deployment-writes admission policy (+binding). */
  readonly controllerRbac: readonly KubeObject[];
  /** ServiceAccount and ClusterRole(+Binding) of the gateway agent. */
  readonly gatewayAgentRbac: readonly KubeObject[];
}

/** The contract. */
export function controllerContract(): ControllerContract {
  const c = controllerRbac({ namespace: PLATFORM.systemNamespace, serviceAccountName: CONTROLLER_SA, leaseName: CONTROLLER_LEASE });
  const g = gatewayAgentRbac({ namespace: PLATFORM.gatewayNamespace, serviceAccountName: GATEWAY_AGENT_SA });
  return {
    crd: servingEndpointCrd() as unknown as KubeObject,
    controllerRbac: [c.serviceAccount, c.clusterRole, c.clusterRoleBinding, c.role, c.roleBinding, c.deploymentWritesPolicy, c.deploymentWritesPolicyBinding] as unknown as KubeObject[],
    gatewayAgentRbac: [g.serviceAccount, g.clusterRole, g.clusterRoleBinding] as unknown as KubeObject[],
  };
}

/**
 * Controller flags (controller/src/kube/config.ts): scrape the gateway pods behind the gateway metrics Service
 * at `gatewayPage` (the agent's `/stats` CSV), read GPU / vLLM / Triton metrics from Prometheus when the stack
 * has it.
 */
export function controllerArgs(opts: {
  gatewayMetricsService: string;
  gatewayPage: { readonly port: number; readonly path: string };
  prometheusUrl?: string;
}): string[] {
  return [
    "--gateway-service", `${PLATFORM.gatewayNamespace}/${opts.gatewayMetricsService}`,
    "--gateway-metrics-port", String(opts.gatewayPage.port),
    "--gateway-metrics-path", opts.gatewayPage.path,
    "--warm-pool-namespace", PLATFORM.systemNamespace,
    ...(opts.prometheusUrl !== undefined ? ["--prometheus-url", opts.prometheusUrl] : []),
  ];
}
