/** Builds the events.k8s.io/v1 Events about a ServingEndpoint: the controller's one per applied scale decision. Pure. */
import { V1MicroTime, type EventsV1Event } from "@kubernetes/client-node";
import type { ServingEndpoint } from "../contract/crd/types.ts";
import { REPORTING_CONTROLLER } from "../contract/labels.ts";

/** What one Event about an endpoint says, and who reports it. */
export interface EndpointEventFields {
  readonly nowMs: number;
  readonly reportingController: string;
  /** The reporting process (pod name). */
  readonly instance: string;
  readonly action: string;
  readonly reason: string;
  /** Cut to the API's 1024 characters. */
  readonly note: string;
  readonly type: "Normal" | "Warning";
}

/** An Event regarding `se`, in its namespace, named after it. */
export function endpointEvent(se: ServingEndpoint, e: EndpointEventFields): EventsV1Event {
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    // The API server validates generateName as a name prefix: a trailing "-" is allowed, a trailing "." is not
    // ("metadata.generateName: Invalid value: \"fraud.\": a lowercase RFC 1123 subdomain …").
    metadata: { generateName: `${se.metadata.name.replace(/\.+$/, "")}-`, namespace: se.metadata.namespace ?? "" },
    eventTime: new V1MicroTime(e.nowMs),
    reportingController: e.reportingController,
    reportingInstance: e.instance,
    action: e.action,
    reason: e.reason,
    note: e.note.slice(0, 1024),
    type: e.type,
    regarding: {
      apiVersion: se.apiVersion,
      kind: se.kind,
      name: se.metadata.name,
      namespace: se.metadata.namespace ?? "",
      ...(se.metadata.uid !== undefined ? { uid: se.metadata.uid } : {}),
    },
  };
}

export function scaleEvent(args: {
  readonly se: ServingEndpoint;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly message: string;
  readonly nowMs: number;
  readonly instance: string;
}): EventsV1Event {
  return endpointEvent(args.se, {
    nowMs: args.nowMs,
    reportingController: REPORTING_CONTROLLER,
    instance: args.instance,
    action: args.to > args.from ? "ScaleUp" : "ScaleDown",
    reason: args.reason,
    note: `replicas ${args.from} → ${args.to}: ${args.message}`,
    type: "Normal",
  });
}
