// What this teaches: how to move a fast stream from a single-threaded event loop.
// Awaiting one write(2) per incoming chunk makes the producer (a socket, a file)
// wait for the consumer; instead chunks queue up while a write is in flight and the
// next write takes all of them at once. For files, a second descriptor asks the
// kernel to flush what is already written (fdatasync) in the background, so the
// final fsync of a commit has little left to do. containerd gets the same overlap
// from Go's io.Copy and goroutines; this is the event-loop way. Used by the content
// store for ingest files and by the content client for its upload socket.

/** Bytes queued before the reader has to wait for the disk (backpressure). */
const HIGH_WATER_BYTES = 32 * 1024 * 1024;
/** Largest joined write(2): small chunks are joined up to this size. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Chunks at least this large are written as they are, without copying. */
const JOIN_BELOW_BYTES = 512 * 1024;
/** A background fdatasync is started after this many bytes. */
const BACKGROUND_SYNC_BYTES = 64 * 1024 * 1024;

/** Anything with a partial-write method: a Deno.FsFile, a Deno.Conn. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes chunks to a file or socket with write coalescing (and, for files, background flushing). */
export class CoalescingWriter {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #draining?: Promise<void>;
  #error?: unknown;
  #bytesSinceSync = 0;
  #syncing?: Promise<void>;

  /**
   * @param sink the file (positioned at its end) or socket to write to
   * @param syncFile a second descriptor of the same file, used for background fdatasync
   */
  constructor(private readonly sink: ByteSink, private readonly syncFile?: Deno.FsFile) {}

  /** Queues a chunk; waits only when too much is queued. Rethrows an earlier write error. */
  async append(chunk: Uint8Array): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    if (chunk.byteLength === 0) return;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
    if (this.#draining === undefined) this.#draining = this.#drain();
    if (this.#pendingBytes >= HIGH_WATER_BYTES) await this.#draining;
  }

  /** Waits until every queued chunk is written (not yet synced); rethrows a write error. */
  async flush(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
    await this.#syncing;
    if (this.#error !== undefined) throw this.#error;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#takeBatch();
        let written = 0;
        while (written < batch.byteLength) {
          written += await this.sink.write(batch.subarray(written));
        }
        this.#bytesSinceSync += batch.byteLength;
        this.#maybeSyncInBackground();
      }
    } catch (error) {
      this.#error = error;
      this.#pending = [];
      this.#pendingBytes = 0;
    } finally {
      // Cleared in the same tick the loop saw an empty queue, so no chunk is stranded.
      this.#draining = undefined;
    }
  }

  /**
   * The next write: a large chunk alone (copying it would cost more than a write
   * call), or small queued chunks joined into one buffer of at most MAX_BATCH_BYTES.
   */
  #takeBatch(): Uint8Array {
    const first = this.#pending.shift()!;
    if (
      this.#pending.length === 0 || first.byteLength >= JOIN_BELOW_BYTES ||
      this.#pending[0].byteLength >= JOIN_BELOW_BYTES
    ) {
      this.#pendingBytes -= first.byteLength;
      return first;
    }
    const parts = [first];
    let size = first.byteLength;
    while (
      this.#pending.length > 0 && this.#pending[0].byteLength < JOIN_BELOW_BYTES &&
      size + this.#pending[0].byteLength <= MAX_BATCH_BYTES
    ) {
      const next = this.#pending.shift()!;
      parts.push(next);
      size += next.byteLength;
    }
    this.#pendingBytes -= size;
    const batch = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      batch.set(part, offset);
      offset += part.byteLength;
    }
    return batch;
  }

  #maybeSyncInBackground(): void {
    if (!this.syncFile || this.#syncing || this.#bytesSinceSync < BACKGROUND_SYNC_BYTES) return;
    this.#bytesSinceSync = 0;
    this.#syncing = this.syncFile.syncData()
      .catch(() => {/* the commit's own fsync reports real errors */})
      .finally(() => {
        this.#syncing = undefined;
      });
  }
}
