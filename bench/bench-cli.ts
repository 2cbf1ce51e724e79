/**
 * What every benchmark command shares: its prerequisites checked before anything starts (the missing tool named
 * with the package that brings it), and where its report goes — printed by default, to `--out FILE`, or to the
 * committed docs/benchmarks/ file only with `--write-docs`.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { Command } from "commander";

/** A program a benchmark runs, and how to install it. */
export interface Prerequisite {
  readonly command: string;
  /** Arguments that make it print its version and exit. */
  readonly probe: readonly string[];
  /** e.g. `sudo apt-get install -y wrk` */
  readonly install: string;
}

export const WRK: Prerequisite = { command: "wrk", probe: ["--version"], install: "sudo apt-get install -y wrk   (Debian/Ubuntu; or build github.com/wg/wrk)" };
export const HAPROXY: Prerequisite = { command: "haproxy", probe: ["-v"], install: "sudo apt-get install -y haproxy" };

/** The prerequisites that are missing, as lines naming each and how to install it ([] when all are there). */
export function missingPrerequisites(list: readonly Prerequisite[]): string[] {
  return list
    .filter((p) => spawnSync(p.command, [...p.probe], { stdio: "ignore" }).error !== undefined)
    .map((p) => `${p.command} is not installed (not on PATH); install it: ${p.install}`);
}

/** Exits 2 with one line per missing prerequisite. */
export function requirePrerequisites(command: string, list: readonly Prerequisite[]): void {
  const missing = missingPrerequisites(list);
  if (missing.length === 0) return;
  process.stderr.write(`${command} needs:\n${missing.map((m) => `  ${m}`).join("\n")}\n`);
  process.exit(2);
}

export interface ReportOptions {
  writeDocs?: boolean;
  out?: string;
}

/** Adds `--write-docs` (the committed `doc`) and `--out FILE` to a command. */
export function reportOptions(cmd: Command, doc: string): Command {
  return cmd
    .option("--write-docs", `write the report to ${doc} (the committed record; default: print it)`)
    .option("--out <file>", "write the report to FILE instead of printing it");
}

/** Prints the report, or writes it where the options say; returns the path written, if any. */
export function emitReport(o: ReportOptions, doc: string, markdown: string): string | undefined {
  const target = o.writeDocs === true ? doc : o.out;
  if (target === undefined) {
    process.stdout.write(`${markdown}\n`);
    process.stdout.write(`(printed only; --write-docs writes ${doc}, --out FILE writes FILE)\n`);
    return undefined;
  }
  writeFileSync(target, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  process.stdout.write(`wrote ${target}\n`);
  return target;
}
