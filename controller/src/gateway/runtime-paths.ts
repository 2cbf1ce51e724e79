/**
 * Native paths of each model runtime, and the public routes an endpoint exposes. Pure.
 */
import type { GatewayEndpoint, RuntimeKind, RuntimePaths } from "./types.ts";

/** Public route suffixes after `/serving-endpoints/{name}/`. */
export const PUBLIC_ROUTES = ["invocations", "v1/chat/completions", "v1/completions", "v1/embeddings", "v1/models"] as const;
export type PublicRoute = (typeof PUBLIC_ROUTES)[number];

/**
 * Default native paths of a runtime. Every non-LLM runtime answers the MLflow scoring protocol on `/invocations`
 * (Triton through the adapter in its pod, which calls Triton's `/v2/models/<endpoint>/infer`). vLLM's
 * `/invocations` dispatches on the body (`messages` → chat, `prompt` → completions, `input` → embeddings).
 */
export function runtimePaths(runtime: RuntimeKind, endpointName: string): RuntimePaths {
  switch (runtime) {
    case "mlflow":
    case "custom":
      return { invocations: "/invocations" };
    case "vllm":
      return {
        invocations: "/invocations",
        chatCompletions: "/v1/chat/completions",
        completions: "/v1/completions",
        embeddings: "/v1/embeddings",
        models: "/v1/models",
      };
    case "triton":
      return { invocations: "/invocations" };
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
  if (paths.models) routes.push({ route: "v1/models", path: paths.models });
  return routes;
}
