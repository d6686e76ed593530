// What this teaches: the content store's part of the GC graph. A blob record is a
// root when it carries `containerd.io/gc.root`; its `containerd.io/gc.ref.*` labels
// are edges to other blobs and to snapshots; unreached records are removed, and
// after that the files no namespace records any more are deleted from `blobs/`.
// Mirrors the content handling of containerd's `core/metadata/gc.go`.
//
// One deliberate difference: containerd collects ingests that no lease holds,
// because its clients always write under a lease. mini's clients usually do not, so
// an ingest is kept until it is committed or aborted (`content active` shows it).

import { CONTENT_NODE, GC_ROOT_LABEL, INGEST_NODE, labelReferences } from "../gc/labels.ts";
import type { GcNode, GcResourceSource } from "../gc/types.ts";
import type { MetadataContentStore } from "./metadata_store.ts";

/** Blob records and ingests as GC nodes. */
export class ContentGcSource implements GcResourceSource {
  readonly name = "content";
  readonly types = [CONTENT_NODE, INGEST_NODE];

  constructor(private readonly store: MetadataContentStore) {}

  roots(): GcNode[] {
    const roots: GcNode[] = this.store.allBlobRecords()
      .filter(({ labels }) => Object.hasOwn(labels, GC_ROOT_LABEL))
      .map(({ namespace, digest }) => ({ type: CONTENT_NODE, namespace, key: digest }));
    for (const { namespace, ref } of this.store.allIngestRecords()) {
      roots.push({ type: INGEST_NODE, namespace, key: ref });
    }
    return roots;
  }

  references(node: GcNode): GcNode[] {
    if (node.type !== CONTENT_NODE) return [];
    const labels = this.store.recordLabels(node.namespace, node.key);
    return labels ? labelReferences(node.namespace, labels) : [];
  }

  candidates(): GcNode[] {
    return this.store.allBlobRecords()
      .map(({ namespace, digest }) => ({ type: CONTENT_NODE, namespace, key: digest }));
  }

  remove(node: GcNode): void {
    this.store.removeRecord(node.namespace, node.key);
  }

  async cleanup(): Promise<string[]> {
    return await this.store.removeUnreferencedFiles();
  }
}
