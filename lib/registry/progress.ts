// What this teaches: what a pull or push reports while it works. Every blob is a
// "job" under its ref key (`layer-sha256:…`) that moves through
// waiting → downloading/uploading (with an offset) → done, or straight to exists when
// the content (or the remote blob) was already there; the reference itself is
// resolving → resolved. A display (mini-ctr's progress bars) reads these states; the
// transfer code never prints anything itself.
// Mirrors the `jobs` tracker of containerd's `cmd/ctr/commands/content/fetch.go` and
// the push `StatusTracker` of `core/remotes/docker/status.go`.

/** The states ctr shows for a job. */
export type TransferStatus =
  | "resolving"
  | "resolved"
  | "waiting"
  | "downloading"
  | "uploading"
  | "committing"
  | "done"
  | "exists";

/** One job as a display sees it. */
export interface TransferJob {
  key: string;
  status: TransferStatus;
  /** Bytes moved so far. */
  offset: number;
  /** Bytes expected, 0 when unknown. */
  total: number;
}

/** Called on every change; `statusChanged` is false for offset-only updates. */
export type TransferListener = (job: TransferJob, statusChanged: boolean) => void;

/** The jobs of one transfer, in the order they were first seen. */
export class TransferTracker {
  readonly #jobs = new Map<string, TransferJob>();
  readonly #listeners: TransferListener[] = [];
  /** When the transfer started (`performance.now()`), for the elapsed time and the rate. */
  readonly startedAt = performance.now();

  /** Subscribes to changes. */
  listen(listener: TransferListener): void {
    this.#listeners.push(listener);
  }

  /** Sets a job's status (creating the job on first use). */
  update(key: string, status: TransferStatus, progress: { offset?: number; total?: number } = {}) {
    const job = this.#jobs.get(key) ?? { key, status, offset: 0, total: 0 };
    const statusChanged = !this.#jobs.has(key) || job.status !== status;
    job.status = status;
    if (progress.offset !== undefined) job.offset = progress.offset;
    if (progress.total !== undefined) job.total = progress.total;
    this.#jobs.set(key, job);
    for (const listener of this.#listeners) listener({ ...job }, statusChanged);
  }

  /** Moves a job's offset without changing its status. */
  advance(key: string, offset: number): void {
    const job = this.#jobs.get(key);
    if (!job || job.offset === offset) return;
    job.offset = offset;
    for (const listener of this.#listeners) listener({ ...job }, false);
  }

  /** A copy of every job, in first-seen order. */
  jobs(): TransferJob[] {
    return [...this.#jobs.values()].map((job) => ({ ...job }));
  }

  /** Bytes moved in this transfer (jobs that existed already count nothing). */
  transferredBytes(): number {
    let total = 0;
    for (const job of this.#jobs.values()) {
      if (job.status !== "exists") total += job.offset;
    }
    return total;
  }
}
