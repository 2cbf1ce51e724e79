/**
 * The ModelPublication provider as Pulumi's dynamic-provider host gets it: the text Pulumi's closure serializer
 * makes of it, loaded as a CommonJS module from the repository root (as the host loads it), not the in-process
 * object.
 */
import { createRequire, Module } from "node:module";
import { join } from "node:path";
import { modelPublicationProvider } from "../../components/model/model-publication.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

export async function hostedProvider(): Promise<typeof modelPublicationProvider> {
  const require = createRequire(import.meta.url);
  const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure") as { serializeFunction(f: () => unknown, o: object): Promise<{ text: string }> };
  const { text } = await sc.serializeFunction(() => modelPublicationProvider, { allowSecrets: true });
  const m = new Module("dynamic-provider.js") as Module & { _compile(code: string, file: string): void };
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(ROOT);
  m._compile(text, join(ROOT, "dynamic-provider.js"));
  return (m.exports as { handler: () => typeof modelPublicationProvider }).handler();
}
