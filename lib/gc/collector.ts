// What this teaches: mark and sweep over the metadata database. The collector asks
// every registered store for its roots, follows the edges they report until nothing
// new turns up (mark), then asks each store to remove the records nobody reached
// (sweep), all inside one transaction so a crash can never leave half a collection.
// Only after that transaction commits do the stores delete files on disk, so a file
// is never removed while a record still points at it. Mirrors containerd's
// `core/metadata/db.go` (GarbageCollect) with `pkg/gc` (the tricolor walk) and the
// debounce of `plugins/gc/scheduler.go`.

import type { MetadataDb } from "../metadata/db.ts";
import type { GcNode, GcReport, GcResourceSource, GcScheduler } from "./types.ts";

/** A minimal logger, so the collector does not depend on the daemon's. */
export interface GcLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Options of a GarbageCollector. */
export interface GarbageCollectorOptions {
  /** Delay between a schedule() call and the collection it asks for (containerd pauses ~100 ms). */
  debounceMs?: number;
  logger?: GcLogger;
}

/** One mark-and-sweep collector per daemon, with sources registered by each store. */
export class GarbageCollector implements GcScheduler {
  readonly #sources: GcResourceSource[] = [];
  readonly #debounceMs: number;
  readonly #logger?: GcLogger;
  #timer?: ReturnType<typeof setTimeout>;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(private readonly db: MetadataDb, options: GarbageCollectorOptions = {}) {
    this.#debounceMs = options.debounceMs ?? 100;
    this.#logger = options.logger;
  }

  /** Adds a store's nodes and edges to the graph. */
  register(source: GcResourceSource): void {
    this.#sources.push(source);
  }

  /** Asks for a collection after the debounce delay; several calls in a row make one pass. */
  schedule(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.collect().catch((error) =>
        this.#logger?.error("garbage collection failed", { error: String(error) })
      );
    }, this.#debounceMs);
    // A pending collection must not keep a stopping daemon alive.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Runs one collection now, after any running one, and reports what it removed. */
  collect(): Promise<GcReport> {
    const next = this.#running.catch(() => {}).then(() => this.#collectOnce());
    this.#running = next;
    return next;
  }

  /** Cancels a scheduled collection and waits for a running one (called on daemon stop). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running.catch(() => {});
  }

  async #collectOnce(): Promise<GcReport> {
    const started = performance.now();
    const removed = this.db.transaction(() => {
      const marked = this.#mark();
      return this.#sweep(marked);
    });
    const cleaned: string[] = [];
    for (const source of this.#sources) {
      if (source.cleanup) cleaned.push(...await source.cleanup());
    }
    const report = { removed, cleaned, durationMs: performance.now() - started };
    if (removed.length > 0 || cleaned.length > 0) {
      this.#logger?.info("garbage collected", {
        removed: removed.length,
        cleaned: cleaned.length,
        ms: report.durationMs.toFixed(1),
      });
    }
    return report;
  }

  /** Mark: every node reachable from a root, as a set of node keys. */
  #mark(): Set<string> {
    const marked = new Set<string>();
    const pending: GcNode[] = this.#sources.flatMap((source) => source.roots());
    while (pending.length > 0) {
      const node = pending.pop()!;
      const id = nodeId(node);
      if (marked.has(id)) continue;
      marked.add(id);
      // A node whose type nobody registered (say, a snapshotter not loaded) is kept
      // alive but has no outgoing edges.
      const owner = this.#sourceFor(node.type);
      if (owner) pending.push(...owner.references(node));
    }
    return marked;
  }

  /** Sweep: removes every candidate that was not marked. */
  #sweep(marked: Set<string>): GcNode[] {
    const removed: GcNode[] = [];
    for (const source of this.#sources) {
      for (const node of source.candidates()) {
        if (marked.has(nodeId(node))) continue;
        source.remove(node);
        removed.push(node);
      }
    }
    return removed;
  }

  #sourceFor(type: string): GcResourceSource | undefined {
    return this.#sources.find((source) => source.types.includes(type));
  }
}

/** A node's identity within one collection: type, namespace and key. */
export function nodeId(node: GcNode): string {
  return `${node.type}\u0000${node.namespace}\u0000${node.key}`;
}
