/**
 * Loading a serving image the program builds into a kind cluster: the shell script a `command.local.Command`
 * runs on the deployer's machine (`kind load docker-image <repository:tag> --name <cluster>`), and the kind
 * cluster a kubeconfig context names. Pure: names in, script out.
 */

/** kind's own rule for cluster names (sigs.k8s.io/kind, `validNameRE`). */
export const KIND_CLUSTER_NAME_RE = /^[a-z0-9.-]+$/;

/** What the script accepts as an image reference: `<repository>:<tag>` (no digest, nothing the shell would expand). */
export const KIND_LOAD_IMAGE_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Where to get kind when it is missing (the script's error names it). */
export const KIND_INSTALL_HINT = "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation, e.g. `go install sigs.k8s.io/kind@latest`)";

/** The kind cluster a kubeconfig context names (`kind-<name>`, as `kind create cluster` writes it), or undefined. */
export function kindClusterOfContext(kubeContext: string): string | undefined {
  const name = /^kind-(.+)$/.exec(kubeContext)?.[1];
  return name !== undefined && KIND_CLUSTER_NAME_RE.test(name) ? name : undefined;
}

/**
 * The script (for `/bin/sh -c`) that loads `image` into the kind cluster `clusterName`. It fails with exit code 127
 * and a message naming what to install when `kind` is not on PATH. Throws on a name or reference that is not one.
 */
export function kindLoadScript(image: string, clusterName: string): string {
  if (!KIND_LOAD_IMAGE_RE.test(image)) {
    throw new Error(`kind load: image ${JSON.stringify(image)} is not an image reference <repository>:<tag>; allowed: lower-case repository path components and a tag of A-Za-z0-9_.- (no digest)`);
  }
  if (!KIND_CLUSTER_NAME_RE.test(clusterName)) {
    throw new Error(`kind load: cluster name ${JSON.stringify(clusterName)} is not a kind cluster name; allowed: a name matching ${KIND_CLUSTER_NAME_RE.source} (kind's own rule)`);
  }
  const missing = `kind-load: kind is not on PATH, so ${image} cannot be loaded into the kind cluster ${clusterName}; ${KIND_INSTALL_HINT}, or turn the load off (stack config kindLoadImages false; ServingPlatform kindCluster "") when the cluster gets the image by other means`;
  return [
    "set -eu",
    `command -v kind >/dev/null 2>&1 || { echo '${missing}' >&2; exit 127; }`,
    `kind load docker-image '${image}' --name '${clusterName}'`,
  ].join("\n");
}

/**
 * The kind cluster a platform loads its serving images into: `kindCluster` when given ("" = none), else the cluster
 * `kubeContext` names (`kind-<name>`), else none. Throws, naming the field, on a bad name or a non-local cloud.
 */
export function kindLoadCluster(subject: string, cloud: string, kindCluster: string | undefined, kubeContext: string | undefined): string | undefined {
  if (kindCluster !== undefined && kindCluster !== "") {
    if (cloud !== "local") throw new Error(`${subject}: field "kindCluster" has value ${JSON.stringify(kindCluster)} (cloud ${cloud} pushes its serving images to a registry); allowed: "" or absent (only the local cloud loads images into kind)`);
    if (!KIND_CLUSTER_NAME_RE.test(kindCluster)) throw new Error(`${subject}: field "kindCluster" has value ${JSON.stringify(kindCluster)}; allowed: "" or a kind cluster name matching ${KIND_CLUSTER_NAME_RE.source}`);
    return kindCluster;
  }
  if (kindCluster === "" || cloud !== "local") return undefined;
  return kindClusterOfContext(kubeContext ?? "");
}
