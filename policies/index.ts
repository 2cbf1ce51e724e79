/**
 * Policy pack entry point, run by the Pulumi CLI: `pulumi preview --policy-pack policies`.
 * Constructing the PolicyPack starts the policy gRPC server, so nothing else may import this file;
 * tests and the offline check import pack.ts instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, pulumiPolicies } from "./pack.ts";

new PolicyPack(PACK_NAME, {
  description: "Guardrails for autopilot-serving: endpoint sanity, GPU placement, supply chain, pod security, network isolation, data access, budgets.",
  enforcementLevel: "mandatory",
  policies: pulumiPolicies(),
});
