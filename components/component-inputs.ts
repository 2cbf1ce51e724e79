/**
 * What a component passes to `super` as its inputs (Pulumi records them in the state and shows them in diffs):
 * its args, less the resources among them (a component's dependency on another resource is expressed by
 * `dependsOn`, and a resource serialised as an input would make the component wait for that resource's children,
 * itself among them when it is the parent), with the args that carry credentials marked secret.
 */
import * as pulumi from "@pulumi/pulumi";

const isResource = (v: unknown): boolean => pulumi.Resource.isInstance(v) || (Array.isArray(v) && v.some((x) => pulumi.Resource.isInstance(x)));

/** `args` without resources and without `omit` (objects recorded by the resources they become, such as the CRD),
 * with `secrets` (top-level keys) wrapped in `pulumi.secret`. */
export function componentInputs<T extends object>(args: T, o: { readonly secrets?: readonly (keyof T & string)[]; readonly omit?: readonly (keyof T & string)[] } = {}): pulumi.Inputs {
  const out: pulumi.Inputs = {};
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined || isResource(v) || (o.omit ?? []).includes(k as keyof T & string)) continue;
    out[k] = (o.secrets ?? []).includes(k as keyof T & string) ? pulumi.secret(v as pulumi.Input<unknown>) : v;
  }
  return out;
}
