/** Builds the events.k8s.io/v1 Event the controller emits for each applied scale decision. Pure. */
import { V1MicroTime, type EventsV1Event } from "@kubernetes/client-node";
import type { ServingEndpoint } from "../contract/crd/types.ts";
import { REPORTING_CONTROLLER } from "../contract/labels.ts";

export function scaleEvent(args: {
  readonly se: ServingEndpoint;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly message: string;
  readonly nowMs: number;
  readonly instance: string;
}): EventsV1Event {
  const { se } = args;
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    // The API server validates generateName as a name prefix: a trailing "-" is allowed, a trailing "." is not
    // ("metadata.generateName: Invalid value: \"fraud.\": a lowercase RFC 1123 subdomain …").
    metadata: { generateName: `${se.metadata.name}-`, namespace: se.metadata.namespace ?? "" },
    eventTime: new V1MicroTime(args.nowMs),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: args.instance,
    action: args.to > args.from ? "ScaleUp" : "ScaleDown",
    reason: args.reason,
    note: `replicas ${args.from} → ${args.to}: ${args.message}`.slice(0, 1024),
    type: "Normal",
    regarding: {
      apiVersion: se.apiVersion,
      kind: se.kind,
      name: se.metadata.name,
      namespace: se.metadata.namespace ?? "",
      ...(se.metadata.uid !== undefined ? { uid: se.metadata.uid } : {}),
    },
  };
}
