/**
 * Turns a plain Kubernetes object from a pure builder into the matching typed Pulumi resource (typed classes keep
 * the provider's await logic — e.g. a Deployment counts as created only when its rollout is ready). Kinds
 * without a typed class here become `apiextensions.CustomResource`.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { KubeObject } from "../types.ts";

type Ctor = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const KINDS: Record<string, Ctor> = {
  "v1/Namespace": k8s.core.v1.Namespace as unknown as Ctor,
  "v1/ServiceAccount": k8s.core.v1.ServiceAccount as unknown as Ctor,
  "v1/Secret": k8s.core.v1.Secret as unknown as Ctor,
  "v1/ConfigMap": k8s.core.v1.ConfigMap as unknown as Ctor,
  "v1/Service": k8s.core.v1.Service as unknown as Ctor,
  "apps/v1/Deployment": k8s.apps.v1.Deployment as unknown as Ctor,
  "apps/v1/DaemonSet": k8s.apps.v1.DaemonSet as unknown as Ctor,
  "apps/v1/StatefulSet": k8s.apps.v1.StatefulSet as unknown as Ctor,
  "batch/v1/Job": k8s.batch.v1.Job as unknown as Ctor,
  "v1/PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim as unknown as Ctor,
  "scheduling.k8s.io/v1/PriorityClass": k8s.scheduling.v1.PriorityClass as unknown as Ctor,
  "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy as unknown as Ctor,
  "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget as unknown as Ctor,
  "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler as unknown as Ctor,
  "rbac.authorization.k8s.io/v1/ClusterRole": k8s.rbac.v1.ClusterRole as unknown as Ctor,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding as unknown as Ctor,
  "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role as unknown as Ctor,
  "rbac.authorization.k8s.io/v1/RoleBinding": k8s.rbac.v1.RoleBinding as unknown as Ctor,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": k8s.apiextensions.v1.CustomResourceDefinition as unknown as Ctor,
  "apiregistration.k8s.io/v1/APIService": k8s.apiregistration.v1.APIService as unknown as Ctor,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": k8s.admissionregistration.v1.ValidatingAdmissionPolicy as unknown as Ctor,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding as unknown as Ctor,
};

/** Creates the Pulumi resource for `obj` (apiVersion + kind pick the class). */
export function kubeResource(name: string, obj: KubeObject, opts?: pulumi.CustomResourceOptions): pulumi.CustomResource {
  const ctor = KINDS[`${String(obj.apiVersion)}/${String(obj.kind)}`];
  if (ctor !== undefined) return new ctor(name, obj as never, opts);
  return new k8s.apiextensions.CustomResource(name, obj as unknown as k8s.apiextensions.CustomResourceArgs, opts);
}
