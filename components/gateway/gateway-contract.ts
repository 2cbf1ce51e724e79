/**
 * WIRING POINT to the gateway package (GATEWAY issue): renders `haproxy.cfg` for the declared endpoints with
 * `renderConfig()` from `controller/src/gateway/render-config.ts`, and names the agent's command line.
 * Until that package is in main, `gatewayContract()` returns undefined: the gateway ConfigMap then carries no
 * config and `npm run plan` reports the gap.
 */

/** One endpoint as the gateway needs it. */
export interface GatewayEndpointInput {
  readonly name: string;
  readonly runtime: "mlflow" | "vllm" | "triton" | "custom";
  /** Initial per-pod concurrency (the controller updates it live). */
  readonly targetConcurrency: number;
  /** Upper bound of pods (server slots). */
  readonly maxReplicas: number;
}

export interface GatewayContract {
  /** Renders haproxy.cfg; `tls` names the certificate file HAProxy terminates TLS with. */
  render(endpoints: readonly GatewayEndpointInput[], settings: { publicPort: number; metricsPort: number; gatewayReplicas: number; runDir: string; authDir: string; tlsCertPath: string }): string;
  /** Agent container args. */
  readonly agentArgs: readonly string[];
}

export function gatewayContract(): GatewayContract | undefined {
  return undefined;
}
