/**
 * Native paths of each model runtime, and the public routes an endpoint exposes. Pure.
 */
import type { GatewayEndpoint, RuntimeKind, RuntimePaths } from "./types.ts";

/** Public route suffixes after `/serving-endpoints/{name}/`. */
export const PUBLIC_ROUTES = ["invocations", "v1/chat/completions", "v1/completions", "v1/embeddings"] as const;
export type PublicRoute = (typeof PUBLIC_ROUTES)[number];

/** Default native paths of a runtime. Triton's path names the model after the endpoint. */
export function runtimePaths(runtime: RuntimeKind, endpointName: string): RuntimePaths {
  switch (runtime) {
    case "mlflow":
    case "custom":
      return { invocations: "/invocations" };
    case "vllm":
      return {
        invocations: "/v1/chat/completions",
        chatCompletions: "/v1/chat/completions",
        completions: "/v1/completions",
        embeddings: "/v1/embeddings",
      };
    case "triton":
      return { invocations: `/v2/models/${endpointName}/infer` };
  }
}

/** The routes an endpoint serves, each with the native path it is rewritten to. */
export function endpointRoutes(ep: GatewayEndpoint): ReadonlyArray<{ route: PublicRoute; path: string }> {
  const paths = ep.paths ?? runtimePaths(ep.runtime, ep.name);
  const routes: Array<{ route: PublicRoute; path: string }> = [{ route: "invocations", path: paths.invocations }];
  // OpenAI-compatible routes exist only where the runtime has a native path for them (LLM runtimes).
  if (paths.chatCompletions) routes.push({ route: "v1/chat/completions", path: paths.chatCompletions });
  if (paths.completions) routes.push({ route: "v1/completions", path: paths.completions });
  if (paths.embeddings) routes.push({ route: "v1/embeddings", path: paths.embeddings });
  return routes;
}
