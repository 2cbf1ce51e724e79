/**
 * Pure: which ServingEndpoint owns each name at the gateway. Endpoint names are global there
 * (`/serving-endpoints/{name}`, backend `be_<name>`), so when two namespaces use the same name the older
 * object (creation time, then namespace) is served and the other is not. The gateway agent (gateway-source.ts)
 * and the controller apply this one rule: the controller gives the other `Ready=False`, reason `NameConflict`,
 * and never scales it on the owner's traffic.
 */
import type { ServingEndpoint } from "../contract/crd/types.ts";

/** Name → `namespace/name` key of the endpoint that owns it, plus every endpoint in name order of age. */
export function gatewayNameOwners(endpoints: readonly ServingEndpoint[]): Map<string, ServingEndpoint> {
  const sorted = [...endpoints].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
      (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? ""),
  );
  const owners = new Map<string, ServingEndpoint>();
  for (const se of sorted) if (!owners.has(se.metadata.name)) owners.set(se.metadata.name, se);
  return owners;
}
