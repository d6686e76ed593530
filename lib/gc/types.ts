// What this teaches: garbage collection in a container daemon is a graph walk.
// Every record that can hold disk space (a blob, a snapshot, a lease, an ingest) is
// a node; images, leases and `containerd.io/gc.root` labels are roots; labels such
// as `containerd.io/gc.ref.content.l.0=<digest>` are edges. Whatever cannot be
// reached from a root is swept. Each store contributes its own nodes and edges
// through one small interface, so the collector knows nothing about images,
// content or snapshots. Mirrors containerd's `pkg/gc/gc.go` (Node, Tricolor) and
// `core/metadata/gc.go` (scanRoots, references, scanAll, remove).

/**
 * Node types, spelled like containerd's lease resource types so that a lease
 * resource *is* a node: `content` (key: a digest), `ingests` (key: an ingest ref),
 * `snapshots/<snapshotter>` (key: a snapshot key), `leases` (key: a lease ID),
 * and whatever else a store registers (`images`, `containers`, ...).
 */
export type GcNodeType = string;

/** One record in the graph: a resource of some type, in one namespace. */
export interface GcNode {
  type: GcNodeType;
  namespace: string;
  /** The resource's identity in its namespace (digest, snapshot key, lease ID...). */
  key: string;
}

/**
 * What a store plugs into the collector. Everything but `cleanup` runs inside the
 * collector's single metadata transaction, so it must be synchronous database work;
 * `cleanup` runs after that transaction committed and removes files on disk.
 *
 * Examples: the images store returns each image's target as a `content` root and
 * owns no candidates; the snapshotter owns `snapshots/overlayfs` nodes, returns a
 * snapshot's parent from `references`, and deletes snapshot directories in `cleanup`.
 */
export interface GcResourceSource {
  /** A name for logs and reports, e.g. "content" or "snapshots/overlayfs". */
  readonly name: string;
  /** The node types whose edges and removal this source answers for. */
  readonly types: readonly GcNodeType[];
  /** Nodes alive by themselves (image targets, unexpired leases, `gc.root` labels). */
  roots(): GcNode[];
  /** Nodes that `node` keeps alive (label edges, a snapshot's parent, a lease's resources). */
  references(node: GcNode): GcNode[];
  /** Every node of this source that may be removed when nothing reaches it. */
  candidates(): GcNode[];
  /** Removes the record of an unreachable node (inside the collector's transaction). */
  remove(node: GcNode): void;
  /** After the transaction committed: removes data on disk that no record points at any more. */
  cleanup?(): Promise<string[]>;
}

/** What one collection removed. */
export interface GcReport {
  /** Records removed from the metadata database. */
  removed: GcNode[];
  /** Data removed from disk by the sources' cleanup, e.g. `content sha256:...`. */
  cleaned: string[];
  /** How long the collection took, in milliseconds. */
  durationMs: number;
}

/** How stores ask for a collection without depending on the collector itself. */
export interface GcScheduler {
  /** Asks for a collection soon (debounced); used after deletes. */
  schedule(): void;
  /** Runs a collection now and returns what it removed (waits for a running one first). */
  collect(): Promise<GcReport>;
}
