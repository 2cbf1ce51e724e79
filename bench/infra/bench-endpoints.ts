/** Generated endpoint lists for the infra benchmark: the example set repeated with unique names. */
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { declareEndpoints, type EndpointContext } from "../../infra/endpoints.ts";

/** `n` endpoints made from the example set with unique names. */
export function manyEndpoints(n: number): (ctx: EndpointContext) => EndpointDeclaration[] {
  return (ctx) => {
    const base = declareEndpoints(ctx);
    return Array.from({ length: n }, (_, i) => {
      const b = base[i % base.length]!;
      return { ...b, name: `${b.name.slice(0, 28)}-${i}` };
    });
  };
}
