/**
 * The init step that fills the node-local model cache. Runs in the downloader image (aws-cli for S3 and
 * S3-compatible stores, gcloud for GCS) with the endpoint's own identity.
 *
 * - Cache key: `<nodeCacheRoot>/<endpoint>/sha256-<hex>`; a directory with `.complete` means a previous pod on the
 *   node finished the download, so this pod skips it.
 * - Parallel chunks: `aws s3 sync` with 32 concurrent requests and 64 MB multipart chunks; on GCS the files listed
 *   in the manifest are fetched 8 at a time with `gcloud storage cp` (sliced parallel download per file). GCS reads
 *   go by the manifest because the endpoint's prefix-conditioned role cannot list the bucket.
 * - Integrity: the version digest is the sha256 of the version's `SHA256SUMS` manifest; the manifest is checked
 *   always, the files (`sha256sum -c`) when the model is under 10 GB (hashing 140 GB would add minutes).
 * - Concurrency on one node: each pod downloads into its own temp dir and renames it into place; the loser of
 *   a race deletes its copy.
 */

/** Shell script for one model version; `cacheDir` is where the node cache is mounted. @default "/cache" */
export function downloadScript(store: "s3" | "gcs" | "minio", digest: string, verifyFiles: boolean, cacheDir = "/cache"): string {
  const hex = digest.replace(/^sha256:/, "");
  const fetch =
    store === "gcs"
      ? [
          'gcloud storage cp "gs://$MODEL_BUCKET/${MODEL_PREFIX}SHA256SUMS" "$tmp/SHA256SUMS"',
          `awk '{print $2}' "$tmp/SHA256SUMS" | xargs -P 8 -I{} sh -c 'mkdir -p "$(dirname "$0/{}")" && gcloud storage cp "gs://$MODEL_BUCKET/\${MODEL_PREFIX}{}" "$0/{}"' "$tmp"`,
        ].join("\n")
      : [
          "aws configure set default.s3.max_concurrent_requests 32",
          "aws configure set default.s3.multipart_chunksize 64MB",
          `aws s3 sync ${store === "minio" ? '--endpoint-url "$AWS_ENDPOINT_URL" ' : ""}--only-show-errors "s3://$MODEL_BUCKET/$MODEL_PREFIX" "$tmp"`,
        ].join("\n");
  return [
    "set -eu",
    `dest="${cacheDir}/sha256-${hex}"`,
    'if [ -f "$dest/.complete" ]; then echo "model cached on this node: $dest"; exit 0; fi',
    `mkdir -p "${cacheDir}/.partial"`,
    `tmp="$(mktemp -d "${cacheDir}/.partial/dl.XXXXXX")"`,
    // A failed or killed download leaves nothing behind.
    `trap 'rm -rf "$tmp"' EXIT`,
    fetch,
    `echo "${hex}  $tmp/SHA256SUMS" | sha256sum -c --quiet -`,
    verifyFiles ? '(cd "$tmp" && sha256sum -c --quiet SHA256SUMS)' : "true # file hashes skipped for models ≥ 10 GB",
    'touch "$tmp/.complete"',
    'mv -T "$tmp" "$dest" 2>/dev/null || rm -rf "$tmp"',
    'echo "model downloaded to $dest"',
  ].join("\n");
}
