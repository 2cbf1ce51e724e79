/**
 * `npx autopilot` — the model owner's CLI: publish a model, call an endpoint, list endpoints. Every command has
 * `--help`; errors name what is wrong; exit codes: exit-codes.ts (docs/models.md).
 */
import { Command, CommanderError } from "commander";
import { endpointRows, formatTable, invoke, listEndpoints, modelsPush } from "./commands.ts";
import { CliError, EXIT } from "./exit-codes.ts";

/** Runs the CLI on `argv` (without node and the script); returns the exit code. */
export async function main(argv: readonly string[], io: { out: (s: string) => void; err: (s: string) => void } = {
  out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s),
}): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command("autopilot")
    .description("Publish models into the platform's cache, call endpoints through the gateway, list endpoints.")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError("(autopilot <command> --help shows its options)");

  const models = program.command("models").description("model versions in the environment's model cache");
  models.command("push")
    .description("resolve a model (registry, run, store or directory), then upload its files and SHA256SUMS to <store>/<endpoint>/<version>/; prints the digest")
    .argument("<uri>", "models:/<name>/<version>, models:/<name>@<alias>, runs:/<run-id>/<path>, s3://…, gs://…, or a directory")
    .requiredOption("--endpoint <name>", "the endpoint the version belongs to")
    .option("--version <label>", "version label (default: v<N> for a registry version, r-<run> for a run, c-<digest> otherwise)")
    .option("--store <url>", "the model bucket, s3://<bucket> or gs://<bucket> (default: $AUTOPILOT_MODEL_STORE)")
    .option("--endpoint-url <url>", "S3-compatible store URL (default: $AWS_ENDPOINT_URL)")
    .option("--region <region>", "S3 signing region (default: $AWS_REGION or us-east-1)")
    .option("--tracking-uri <url>", "MLflow tracking server for models:/ and runs:/ (default: $MLFLOW_TRACKING_URI; token: $MLFLOW_TRACKING_TOKEN)")
    .option("--json", "print the result as JSON")
    .action(async (uri: string, o: { endpoint: string; version?: string; store?: string; endpointUrl?: string; region?: string; trackingUri?: string; json?: boolean }) => {
      const r = await modelsPush(uri, o);
      if (o.json === true) io.out(`${JSON.stringify(r)}\n`);
      else {
        io.out(`${r.unchanged ? "unchanged" : "published"} ${r.endpoint}/${r.version} (${r.flavor}, from ${r.source}) at ${r.url}: ${r.uploadedFiles} files, ${r.uploadedBytes} bytes uploaded\n`);
        io.out(`${r.digest}\n`);
      }
    });

  program.command("invoke")
    .description("POST a body to an endpoint through the gateway (key: $AUTOPILOT_API_KEY); prints the answer")
    .argument("<endpoint>", "endpoint name")
    .requiredOption("--data <file|json>", "the request body: inline JSON, or a file (.csv is sent as text/csv)")
    .option("--gateway <url>", "the gateway URL (default: $AUTOPILOT_GATEWAY_URL; trust a generated certificate with NODE_EXTRA_CA_CERTS)")
    .option("--path <path>", "path below the endpoint, e.g. v1/chat/completions", "invocations")
    .action(async (endpoint: string, o: { data: string; gateway?: string; path: string }) => {
      const r = await invoke(endpoint, o);
      io.out(r.body.endsWith("\n") ? r.body : `${r.body}\n`);
      if (r.status < 200 || r.status >= 300) {
        io.err(`autopilot invoke: ${endpoint} answered HTTP ${r.status}\n`);
        code = EXIT.endpointError;
      }
    });

  program.command("endpoints")
    .description("list ServingEndpoints: ready/desired replicas, target concurrency, QPS, traffic (kubeconfig)")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context (default: the current one)")
    .option("-n, --namespace <ns>", "only this namespace (default: all)")
    .option("--json", "print the rows as JSON")
    .action(async (o: { kubeconfig?: string; context?: string; namespace?: string; json?: boolean }) => {
      const rows = endpointRows(await listEndpoints(o));
      io.out(o.json === true ? `${JSON.stringify(rows)}\n` : formatTable(rows));
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (e instanceof CliError) {
      io.err(`autopilot: ${e.message}\n`);
      return e.code;
    }
    io.err(`autopilot: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}
