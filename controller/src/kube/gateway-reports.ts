/**
 * The gateway agent's reports of endpoints it cannot serve as declared (`EndpointReports`), in Kubernetes: the
 * condition `GatewayAccepted` on the ServingEndpoint's status (False with the problems; True once valid again),
 * a Warning Event per rejection, and the gauge `gateway_endpoint_rejected{endpoint}` (1 while rejected). Writes
 * are fire-and-forget: a failed write is logged and never stops the agent's cycle.
 */
import type { EventsV1Event } from "@kubernetes/client-node";
import type { Gauge } from "prom-client";
import type { ServingEndpoint } from "../contract/crd/types.ts";
import type { EndpointReports } from "../gateway/agent.ts";
import { endpointEvent } from "./events.ts";
import type { KubeApi } from "./kube-api.ts";
import type { Logger } from "./logger.ts";
import { setCondition } from "./status.ts";

export const CONDITION_GATEWAY_ACCEPTED = "GatewayAccepted";
/** Reporting controller of the agent's Events. */
export const GATEWAY_REPORTER = "serving.autopilot.dev/gateway-agent";

export interface KubeEndpointReportsOptions {
  readonly api: Pick<KubeApi, "createEvent" | "patchServingEndpointStatus">;
  /** The ServingEndpoints the agent watches (to find an endpoint's namespace, uid and current conditions). */
  readonly endpoints: () => readonly ServingEndpoint[];
  readonly rejectedGauge: Gauge<"endpoint">;
  readonly log: Logger;
  readonly nowMs: () => number;
  /** This agent's instance (pod name). */
  readonly instance: string;
}

/** The Warning Event of one rejection. Pure. */
export function rejectionEvent(se: ServingEndpoint, problems: readonly string[], servingLastGood: boolean, nowMs: number, instance: string): EventsV1Event {
  return endpointEvent(se, {
    nowMs,
    reportingController: GATEWAY_REPORTER,
    instance,
    action: servingLastGood ? "KeepLastValid" : "Skip",
    reason: "GatewayRejected",
    note: `${servingLastGood ? "the gateway keeps serving its last valid settings" : "the gateway does not serve it"}: ${problems.join("; ")}`,
    type: "Warning",
  });
}

export function kubeEndpointReports(o: KubeEndpointReportsOptions): EndpointReports {
  const named = (name: string): ServingEndpoint[] => o.endpoints().filter((se) => se.metadata.name === name);
  const writeCondition = (se: ServingEndpoint, status: "True" | "False", reason: string, message: string): void => {
    const conditions = setCondition(se.status?.conditions ?? [], { type: CONDITION_GATEWAY_ACCEPTED, status, reason, message }, new Date(o.nowMs()).toISOString(), se.metadata.generation);
    o.api.patchServingEndpointStatus(se.metadata.namespace ?? "", se.metadata.name, { conditions }).catch((e: unknown) =>
      o.log.warn("gateway condition write failed", { endpoint: se.metadata.name, error: (e as Error).message }),
    );
  };
  return {
    rejected(name, problems, servingLastGood) {
      o.rejectedGauge.set({ endpoint: name }, 1);
      for (const se of named(name)) {
        o.api.createEvent(se.metadata.namespace ?? "", rejectionEvent(se, problems, servingLastGood, o.nowMs(), o.instance)).catch((e: unknown) =>
          o.log.warn("gateway event write failed", { endpoint: name, error: (e as Error).message }),
        );
        writeCondition(se, "False", servingLastGood ? "InvalidServingLastValid" : "Invalid", problems.join("; ").slice(0, 32_000));
      }
    },
    accepted(name) {
      o.rejectedGauge.set({ endpoint: name }, 0);
      for (const se of named(name)) {
        if (se.status?.conditions?.some((c) => c.type === CONDITION_GATEWAY_ACCEPTED && c.status === "False")) writeCondition(se, "True", "Accepted", "the gateway serves the endpoint as declared");
      }
    },
  };
}
