/**
 * Names and paths shared by the Pulumi components (which create the objects), the controller and the gateway
 * agent (which find them): namespaces, ServiceAccounts, the Lease, the agent's entry point and its stats route.
 * One place, so a rename cannot leave one side behind.
 */

/** Namespace of the APA controller, its Lease and the warm-pool placeholders. */
export const SYSTEM_NAMESPACE = "autopilot-system";
/** Namespace of the gateway pods (HAProxy + agent). */
export const GATEWAY_NAMESPACE = "autopilot-gateway";

/** Service listing every gateway pod (the controller scrapes them; each agent counts them). */
export const GATEWAY_METRICS_SERVICE = "gateway-metrics";

/** The controller's ServiceAccount and the name of its leader-election Lease. */
export const CONTROLLER_SERVICE_ACCOUNT = "apa-controller";
export const CONTROLLER_LEASE = "apa-controller";
/** The gateway agent's ServiceAccount. */
export const GATEWAY_AGENT_SERVICE_ACCOUNT = "gateway-agent";

/** Entry points inside the one image (controller/Dockerfile): the controller (default command) and the agent. */
export const CONTROLLER_ENTRY = "dist/controller/src/kube/main.js";
export const GATEWAY_AGENT_ENTRY = "dist/controller/src/gateway/agent-main.js";

/**
 * The gateway agent's `GET /stats` route (on its health port): HAProxy's backend statistics as
 * `show stat -1 2 -1` CSV, which the controller scrapes every second.
 */
export const STATS_PATH = "/stats";
