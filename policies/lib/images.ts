/** Container image reference parsing (`[registry/]repository[:tag][@sha256:digest]`). */

export interface ImageRef {
  /** Registry host (with port); `docker.io` when the reference names none. */
  readonly registry: string;
  /** Repository path without registry, tag or digest. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Parses an image reference the way the container runtime does (Docker's reference grammar, simplified). */
export function parseImage(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  const hasRegistry = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  const repository = hasRegistry ? rest.slice(slash + 1) : rest;
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** True for a well-formed sha256 digest. */
export function isDigest(d: string | undefined): boolean {
  return d !== undefined && /^sha256:[0-9a-f]{64}$/.test(d);
}
