/**
 * ApaController: the ServingEndpoint CRD, RBAC (cluster rules + leader-election Lease role), a 2-replica
 * Deployment with leader election, PDB and metrics Service. Image: a given reference, or built from
 * `controller/Dockerfile` with @pulumi/docker-build, pushed, and pinned by digest (`repo@sha256:…`), so the
 * Deployment rolls only when the image really changes.
 */
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { kubeResource } from "../k8s/kube-resource.ts";
import { restrictedNamespaceLabels } from "../k8s/pod-security.ts";
import { PLATFORM } from "../types.ts";
import type { ControllerContract } from "./controller-contract.ts";
import { buildControllerDeployment, buildControllerPdb, buildControllerService } from "./controller-spec.ts";
import { componentInputs } from "../component-inputs.ts";

export interface ApaControllerArgs {
  /** Image reference to run. @default none: built from controller/Dockerfile and pushed to `build.repository` */
  readonly image?: string;
  /** Build settings, when `image` is absent. @default none */
  readonly build?: {
    /** Registry repository URL, e.g. `123.dkr.ecr.us-east-1.amazonaws.com/apa-controller`. */
    readonly repository: pulumi.Input<string>;
    /** Registry login for the push. */
    readonly registry: { address: pulumi.Input<string>; username: pulumi.Input<string>; password: pulumi.Input<string> };
    /** Repository root (build context). */
    readonly contextPath: string;
    /** Image tag: a digest of the build context (image-tag.ts), never reused for other content. */
    readonly tag: string;
  };
  /** CRD and RBAC from the controller package. */
  readonly contract: ControllerContract;
  /** Controller flags (controllerArgs()). */
  readonly args: readonly string[];
  /** Container sizes: `small` for one laptop node. @default "standard" */
  readonly size?: "small" | "standard";
}

export class ApaController extends pulumi.ComponentResource {
  /** Image the controller runs (digest-pinned when built). */
  readonly image: pulumi.Output<string>;
  /** The CRD resource (endpoints' custom resources wait for it). */
  readonly crd: pulumi.Resource;
  readonly namespace: pulumi.Resource;

  constructor(name: string, args: ApaControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:controller:ApaController", name, componentInputs(args, { omit: ["contract"] }), opts);
    if (args.image === undefined && args.build === undefined) throw new Error("ApaController: give either image or build");
    const o = { parent: this };
    if (args.image !== undefined) {
      this.image = pulumi.output(args.image);
    } else {
      const b = args.build!;
      const img = new dockerBuild.Image(`${name}-image`, {
        context: { location: b.contextPath },
        dockerfile: { location: `${b.contextPath}/controller/Dockerfile` },
        platforms: ["linux/amd64"],
        push: true,
        tags: [pulumi.interpolate`${b.repository}:${b.tag}`],
        registries: [b.registry],
        buildOnPreview: true,
      }, o);
      this.image = pulumi.interpolate`${b.repository}@${img.digest}`;
    }
    this.namespace = kubeResource(`${name}-ns`, { apiVersion: "v1", kind: "Namespace", metadata: { name: PLATFORM.systemNamespace, labels: restrictedNamespaceLabels() } }, o);
    const inNs = { ...o, dependsOn: [this.namespace] };
    this.crd = kubeResource(`${name}-crd`, args.contract.crd, o);
    const rbac = args.contract.controllerRbac.map((obj) => kubeResource(`${name}-${String(obj.kind).toLowerCase()}`, obj, inNs));
    kubeResource(`${name}-deployment`, buildControllerDeployment(this.image, args.args, args.size ?? "standard"), { ...o, dependsOn: [this.namespace, this.crd, ...rbac] });
    kubeResource(`${name}-pdb`, buildControllerPdb(), inNs);
    kubeResource(`${name}-service`, buildControllerService(), inNs);
    this.registerOutputs({ image: this.image });
  }
}
