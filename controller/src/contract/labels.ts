/**
 * Labels and names shared by the controller, the Pulumi ServingEndpoint component and the gateway agent.
 * The component puts these on the objects it creates; the controller selects by them.
 */

/** On an endpoint's Deployment(s) and pods: the ServingEndpoint name (same namespace). */
export const ENDPOINT_LABEL = "serving.autopilot.dev/endpoint";
/** On a Deployment when the endpoint splits traffic across versions: the `trafficSplit[].version`. */
export const VERSION_LABEL = "serving.autopilot.dev/version";
/** On a warm-pool placeholder Deployment: the compute pool it keeps capacity for. */
export const WARM_POOL_LABEL = "serving.autopilot.dev/warm-pool";
/** Standard label on EndpointSlices naming their Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** Field manager for every write the controller makes. */
export const FIELD_MANAGER = "apa-controller";
/** `reportingController` of the controller's Events. */
export const REPORTING_CONTROLLER = "serving.autopilot.dev/apa-controller";
