/**
 * ServingImages: builds each distinct serving image of the stack once (@pulumi/docker-build, from
 * serving-image.ts's Dockerfile; the build context is an empty directory) with a content-addressed tag, pushes it
 * to the platform registry and hands out references by digest (`repo@sha256:…`). Identical environments share one
 * image. On the local cloud the image is built into the local Docker engine (`repo:tag`) and, when the registry
 * names a kind cluster, loaded into it by a `command.local.Command` child (`kind load docker-image`, kind-load.ts)
 * that runs after the build and again only when the image's tag or digest changes; the reference handed out
 * carries that Command, so the version's Deployment waits for the load.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as command from "@pulumi/command";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { kindLoadScript } from "./kind-load.ts";
import type { ServingImagePlan, ServingImageSpec } from "./serving-image.ts";

/** The build context: an empty directory (the Dockerfile copies nothing), the same path on every run. */
export const IMAGE_CONTEXT_DIR = join(tmpdir(), "autopilot-serving-empty-build-context");

export type ImageRegistry =
  | { readonly kind: "push"; readonly repository: pulumi.Input<string>; readonly registry: { address: pulumi.Input<string>; username: pulumi.Input<string>; password: pulumi.Input<string> } }
  | {
    readonly kind: "local";
    readonly repository: pulumi.Input<string>;
    /** The kind cluster each image is loaded into after its build (`kind load docker-image`). @default none (not loaded) */
    readonly kindCluster?: string;
  };

export interface ServingImagesArgs {
  readonly plan: ServingImagePlan;
  readonly registry: ImageRegistry;
}

/** The shell every load command runs under (`/bin/sh -c <create>`); the tests run the rendered script with it. */
export const KIND_LOAD_INTERPRETER: readonly string[] = ["/bin/sh", "-c"];

/**
 * Builds one serving image (docker-build Image, child of `parent`) and returns its reference (by digest when
 * pushed; on local `repo:tag`, after the kind load when the registry names a cluster).
 */
function buildImage(name: string, spec: ServingImageSpec, r: ImageRegistry, parent: pulumi.Resource): pulumi.Output<string> {
  mkdirSync(IMAGE_CONTEXT_DIR, { recursive: true });
  writeFileSync(join(IMAGE_CONTEXT_DIR, ".dockerignore"), "*\n");
  const ref = pulumi.interpolate`${r.repository}:${spec.tag}`;
  const img = new dockerBuild.Image(name, {
    context: { location: IMAGE_CONTEXT_DIR },
    dockerfile: { inline: spec.dockerfile },
    platforms: ["linux/amd64"],
    tags: [ref],
    ...(r.kind === "push" ? { push: true, registries: [r.registry] } : { push: false, load: true }),
    buildOnPreview: false,
  }, { parent });
  if (r.kind === "push") return pulumi.interpolate`${r.repository}@${img.digest}`;
  if (r.kindCluster === undefined) return ref;
  const cluster = r.kindCluster;
  const load = new command.local.Command(`${name}-kind-load`, {
    create: ref.apply((image) => kindLoadScript(image, cluster)),
    interpreter: [...KIND_LOAD_INTERPRETER],
    // Same tag and digest: nothing to load again; a rebuilt image (new digest) or another tag loads again.
    triggers: [ref, img.digest],
  }, { parent, dependsOn: [img] });
  return pulumi.all([ref, load.id]).apply(([image]) => image);
}

export class ServingImages extends pulumi.ComponentResource {
  /** endpoint → version → image reference. */
  readonly byVersion: Record<string, Record<string, pulumi.Output<string>>> = {};
  /** tag → image reference. */
  readonly images: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: ServingImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:serving:ServingImages", name, {}, opts);
    for (const [tag, spec] of Object.entries(args.plan.images)) this.images[tag] = buildImage(`${name}-${tag}`, spec, args.registry, this);
    for (const [endpoint, versions] of Object.entries(args.plan.byVersion)) {
      this.byVersion[endpoint] = {};
      for (const [version, tag] of Object.entries(versions)) this.byVersion[endpoint][version] = this.images[tag]!;
    }
    this.registerOutputs({});
  }
}

/**
 * endpoint → version → image reference of the MLflow-served versions: `<repository>:<tag>` when the images are
 * built ahead of the deploy (`repository` set; nothing is built), else the references of the images built here.
 * `undefined` when no version needs a serving image.
 */
export function servingImageRefs(
  name: string, plan: ServingImagePlan, repository: string, registry: () => ImageRegistry, parent: pulumi.Resource,
): { readonly byVersion: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>> } | undefined {
  if (Object.keys(plan.images).length === 0) return undefined;
  if (repository === "") return new ServingImages(name, { plan, registry: registry() }, { parent });
  const byVersion: Record<string, Record<string, string>> = {};
  for (const [endpoint, versions] of Object.entries(plan.byVersion)) {
    byVersion[endpoint] = Object.fromEntries(Object.entries(versions).map(([version, tag]) => [version, `${repository}:${tag}`]));
  }
  return { byVersion };
}

/**
 * The serving images of a platform, shared by every endpoint declared on it: each environment (tag) is built once
 * per program — by the platform's ServingImages, or by the first endpoint declared on its own that needs it — and
 * pushed to the platform's registry (created on first use), so two endpoints never push one tag twice (the
 * registries' tags are immutable).
 */
export class ServingImageBuilder {
  readonly #registry: () => ImageRegistry;
  readonly #prebuilt: string;
  readonly #built = new Map<string, pulumi.Input<string>>();

  /** `prebuiltRepository`: images built ahead of the deploy are pulled as `<repository>:<tag>`, nothing is built. */
  constructor(registry: () => ImageRegistry, prebuiltRepository = "") {
    this.#registry = registry;
    this.#prebuilt = prebuiltRepository;
  }

  /** Images built elsewhere (the platform's ServingImages), by tag. */
  adopt(images: Readonly<Record<string, pulumi.Input<string>>>): void {
    for (const [tag, ref] of Object.entries(images)) this.#built.set(tag, ref);
  }

  /** The images of `plan`: endpoint → version → reference; images not built yet are built as children of `parent`. */
  build(plan: ServingImagePlan, parent: pulumi.Resource, name: string): Record<string, Record<string, pulumi.Input<string>>> {
    for (const [tag, spec] of Object.entries(plan.images)) {
      if (this.#built.has(tag)) continue;
      this.#built.set(tag, this.#prebuilt !== "" ? `${this.#prebuilt}:${tag}` : buildImage(`${name}-${tag}`, spec, this.#registry(), parent));
    }
    const out: Record<string, Record<string, pulumi.Input<string>>> = {};
    for (const [endpoint, versions] of Object.entries(plan.byVersion)) {
      out[endpoint] = {};
      for (const [version, tag] of Object.entries(versions)) out[endpoint][version] = this.#built.get(tag)!;
    }
    return out;
  }
}
