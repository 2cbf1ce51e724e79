/**
 * ModelPublication: a Pulumi resource that publishes one resolved model version into the model cache during
 * `pulumi up` (a dynamic provider; its create/update call publish.ts, the code `autopilot models push` runs).
 *
 * - Inputs carry the digest the program computed from the files at preview, so the plan shows what will be
 *   uploaded; an unchanged digest is no diff, so an unchanged model is never re-uploaded, and publish.ts skips the
 *   upload too when the store already holds the manifest (published ahead by the CLI).
 * - The endpoint's Deployment depends on it: pods start only once their version is in the store.
 * - Delete removes the version's objects (after the Deployment that read them is gone; nodes keep their copy).
 * - The provider runs in Pulumi's dynamic-provider host, which loads publish.ts from this checkout by absolute
 *   path (the serialized provider captures only that path).
 */
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import type { StoreLocation } from "./sources/object-store.ts";
import type { ModelFile } from "./manifest.ts";

/** Absolute path of the module the provider host loads. */
const PUBLISH_MODULE = fileURLToPath(new URL("./publish.ts", import.meta.url));

/** The resource's inputs (and, with the results, its state). */
export interface ModelPublicationInputs {
  readonly endpoint: string;
  readonly version: string;
  /** `sha256:<hex>` of the manifest, computed from the files. */
  readonly digest: string;
  /** Where the version was resolved from (`models:/iris/3`, a directory). */
  readonly source: string;
  /** Local directory holding the files. */
  readonly dir: string;
  readonly files: readonly ModelFile[];
  readonly store: StoreLocation;
}

/** The provider (exported so a test can run it as the dynamic-provider host does). */
export const modelPublicationProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: ModelPublicationInputs, news: ModelPublicationInputs) {
    const where = (s: StoreLocation) => `${s.kind}|${s.bucket}|${s.endpointUrl ?? ""}`;
    const changed = olds.digest !== news.digest || olds.endpoint !== news.endpoint || olds.version !== news.version || where(olds.store) !== where(news.store);
    return { changes: changed, ...(olds.endpoint !== news.endpoint || olds.version !== news.version || where(olds.store) !== where(news.store) ? { replaces: ["store"], deleteBeforeReplace: false } : {}) };
  },
  async create(inputs: ModelPublicationInputs) {
    const m = (await import(PUBLISH_MODULE)) as typeof import("./publish.ts");
    const r = await m.publishVersion(inputs.store, { endpoint: inputs.endpoint, version: inputs.version, dir: inputs.dir, files: inputs.files, digest: inputs.digest });
    return { id: r.url, outs: { ...inputs, url: r.url, uploadedFiles: r.uploadedFiles, uploadedBytes: r.uploadedBytes } };
  },
  async update(_id: string, _olds: ModelPublicationInputs, news: ModelPublicationInputs) {
    const m = (await import(PUBLISH_MODULE)) as typeof import("./publish.ts");
    const r = await m.publishVersion(news.store, { endpoint: news.endpoint, version: news.version, dir: news.dir, files: news.files, digest: news.digest });
    return { outs: { ...news, url: r.url, uploadedFiles: r.uploadedFiles, uploadedBytes: r.uploadedBytes } };
  },
  async delete(_id: string, olds: ModelPublicationInputs) {
    const m = (await import(PUBLISH_MODULE)) as typeof import("./publish.ts");
    await m.unpublishVersion(olds.store, olds.endpoint, olds.version);
  },
};

export interface ModelPublicationArgs {
  readonly endpoint: string;
  readonly version: string;
  readonly digest: string;
  readonly source: string;
  readonly dir: string;
  readonly files: readonly ModelFile[];
  /** The store as this process reaches it (bucket may be an Output; credentials are kept secret). */
  readonly store: pulumi.Input<StoreLocation>;
}

export class ModelPublication extends pulumi.dynamic.Resource {
  declare readonly digest: pulumi.Output<string>;
  declare readonly url: pulumi.Output<string>;
  declare readonly uploadedFiles: pulumi.Output<number>;

  constructor(name: string, args: ModelPublicationArgs, opts?: pulumi.CustomResourceOptions) {
    super(modelPublicationProvider, name, { ...args, files: args.files.map((f) => ({ ...f })), url: undefined, uploadedFiles: undefined, uploadedBytes: undefined }, opts, "autopilot", "ModelPublication");
  }
}
