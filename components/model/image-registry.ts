/**
 * The registry repository the serving images are pushed to: aws — an ECR repository (immutable tags, scanned on
 * push, KMS-encrypted) with the deployer's ECR token; gcp — an Artifact Registry Docker repository (immutable tags)
 * with the deployer's access token; local — no registry: the image stays in the local Docker engine and, when the
 * target names a kind cluster, is loaded into it (serving-images.ts, kind-load.ts).
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { ImageRegistry } from "./serving-images.ts";

export type RegistryTarget =
  | { readonly kind: "aws"; readonly provider: pulumi.ProviderResource }
  | { readonly kind: "gcp"; readonly provider: pulumi.ProviderResource; readonly project: pulumi.Input<string>; readonly region: string; readonly dependsOn?: readonly pulumi.Resource[] }
  | {
    readonly kind: "local";
    /** The kind cluster the built images are loaded into (`kind load docker-image --name <it>`). @default none (not loaded) */
    readonly kindCluster?: string;
  };

/** Creates the repository `repoName` (a child of `parent`) and says how to push to it. */
export function createImageRegistry(repoName: string, target: RegistryTarget, parent: pulumi.Resource): ImageRegistry {
  if (target.kind === "aws") {
    const repo = new aws.ecr.Repository(`${repoName}-repo`, {
      imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "KMS" }],
    }, { parent, provider: target.provider });
    const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, { parent, provider: target.provider });
    return { kind: "push", repository: repo.repositoryUrl, registry: { address: auth.proxyEndpoint, username: auth.userName, password: pulumi.secret(auth.password) } };
  }
  if (target.kind === "gcp") {
    const repo = new gcp.artifactregistry.Repository(`${repoName}-repo`, {
      location: target.region, repositoryId: repoName, format: "DOCKER", dockerConfig: { immutableTags: true },
    }, { parent, provider: target.provider, dependsOn: [...(target.dependsOn ?? [])] });
    const client = gcp.organizations.getClientConfigOutput({ parent, provider: target.provider });
    const host = `${target.region}-docker.pkg.dev`;
    return { kind: "push", repository: pulumi.interpolate`${host}/${target.project}/${repo.repositoryId}/model-serving`, registry: { address: host, username: "oauth2accesstoken", password: pulumi.secret(client.accessToken) } };
  }
  return { kind: "local", repository: pulumi.output("autopilot/model-serving"), ...(target.kindCluster !== undefined ? { kindCluster: target.kindCluster } : {}) };
}
