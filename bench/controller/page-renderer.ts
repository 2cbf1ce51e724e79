/**
 * The gateway side of `npm run bench:controller`, run as a child process (`startPageRenderer`): each second's
 * load (`LoadModel`), rendered as the pages the controller scrapes (the agent's `/stats` CSV and its request
 * section), and at the end the promex page of the last load. Rendering is the gateway's work: in its own
 * process, neither its CPU nor its garbage is billed to the controller's cycle. The controller's process
 * receives each page as text, as it would from the network.
 */
import { fork, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LoadModel } from "./bench-fixtures.ts";
import { defaultTemplate, renderBackendPage, type BackendLoad } from "./promex-page.ts";
import { RequestSectionLoad } from "./request-section-page.ts";
import { renderStatCsvPage } from "./stat-csv-page.ts";

/** What the renderer is told once. */
export interface PageRendererSetup {
  readonly endpointNames: readonly string[];
  readonly gateways: number;
  readonly requestSection: boolean;
  /** Every endpoint's p99 objective, ms (the request section counts requests over it). */
  readonly objectiveMs: number;
}

/** One second's pages, one per gateway replica. */
export interface RenderedPages {
  readonly pages: readonly string[];
  /** Characters of the request section of the last replica's page (0 without the section). */
  readonly sectionChars: number;
}

type Request = { readonly op: "setup"; readonly setup: PageRendererSetup } | { readonly op: "next" } | { readonly op: "promex" };
type Reply = { readonly op: "ready" } | { readonly op: "pages"; readonly rendered: RenderedPages } | { readonly op: "promex"; readonly page: string };

/** The renderer's state in the child: the load model and each replica's request counters. */
class PageRenderer {
  readonly #setup: PageRendererSetup;
  readonly #load: LoadModel;
  readonly #sections: RequestSectionLoad[];
  readonly #servedBefore: Float64Array[];
  #lastLoad: readonly BackendLoad[] = [];

  constructor(setup: PageRendererSetup) {
    this.#setup = setup;
    this.#load = new LoadModel(setup.endpointNames.length);
    this.#sections = Array.from({ length: setup.gateways }, () => new RequestSectionLoad(setup.endpointNames, setup.objectiveMs));
    this.#servedBefore = Array.from({ length: setup.gateways }, () => new Float64Array(setup.endpointNames.length));
  }

  next(): RenderedPages {
    const pages: string[] = [];
    let sectionChars = 0;
    const names = this.#setup.endpointNames;
    for (const [g, backends] of this.#load.next(this.#setup.gateways).entries()) {
      let text = renderStatCsvPage(backends);
      if (this.#setup.requestSection) {
        const section = this.#sections[g]!;
        const before = this.#servedBefore[g]!;
        for (let i = 0; i < backends.length; i++) {
          const b = backends[i]!;
          const served = b.responses2xxTotal - before[i]!;
          before[i] = b.responses2xxTotal;
          section.advance(names[i]!, served, (b.totalTimeAvgS ?? 0.05) * 1000, (b.queueTimeAvgS ?? 0) * 1000);
        }
        const sectionText = section.section();
        sectionChars = sectionText.length;
        text += sectionText;
      }
      pages.push(text);
      this.#lastLoad = backends;
    }
    return { pages, sectionChars };
  }

  promex(): string {
    return renderBackendPage(this.#lastLoad, defaultTemplate());
  }
}

/** The parent's handle on the renderer process: one request at a time. */
export interface PageRendererClient {
  next(): Promise<RenderedPages>;
  /** The promex `/metrics?scope=backend` page of the last load. */
  promex(): Promise<string>;
  stop(): void;
}

/** Forks this module as the renderer and sends it `setup`. */
export async function startPageRenderer(setup: PageRendererSetup): Promise<PageRendererClient> {
  const child: ChildProcess = fork(new URL(import.meta.url), [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  child.on("message", (m) => {
    const w = waiting;
    waiting = undefined;
    w?.resolve(m as Reply);
  });
  child.on("exit", (code) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(new Error(`page renderer exited with code ${code}`));
  });
  const ask = (request: Request): Promise<Reply> =>
    new Promise((resolve, reject) => {
      if (waiting !== undefined) throw new Error("page renderer: one request at a time");
      waiting = { resolve, reject };
      child.send(request);
    });
  await ask({ op: "setup", setup });
  return {
    next: async () => {
      const r = await ask({ op: "next" });
      if (r.op !== "pages") throw new Error(`page renderer: expected pages, got ${r.op}`);
      return r.rendered;
    },
    promex: async () => {
      const r = await ask({ op: "promex" });
      if (r.op !== "promex") throw new Error(`page renderer: expected the promex page, got ${r.op}`);
      return r.page;
    },
    stop: () => {
      child.removeAllListeners("exit");
      child.kill();
    },
  };
}

// In the child: answer the parent's requests.
if (process.send !== undefined && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  let renderer: PageRenderer | undefined;
  const reply = (r: Reply): void => void process.send?.(r);
  process.on("message", (m: Request) => {
    if (m.op === "setup") {
      renderer = new PageRenderer(m.setup);
      reply({ op: "ready" });
      return;
    }
    if (renderer === undefined) throw new Error("page renderer: no setup yet");
    if (m.op === "next") reply({ op: "pages", rendered: renderer.next() });
    else reply({ op: "promex", page: renderer.promex() });
  });
  process.on("disconnect", () => process.exit(0));
}
