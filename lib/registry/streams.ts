// What this teaches: bytes flow from the registry to the content store (or back)
// without ever being held whole in memory. A pass-through stream on the way counts
// them for the progress bars, stops a sender that sends more than the descriptor
// promised, and remembers whether the *source* failed (a dropped connection, worth
// resuming) as opposed to the destination refusing the bytes. Chunks pass through
// as they come (fetch hands out 64 KiB pieces; the content client batches them).

import { RegistryError } from "./errors.ts";

/** Options of a MeteredStream. */
export interface MeteredStreamOptions {
  /** Refuse more than this many bytes. */
  limit: number;
  /** Names the blob in errors. */
  what: string;
  /**
   * What a failing source does to the consumer: "error" passes the failure on;
   * "close" ends the stream cleanly, so the consumer (a content-store ingest) keeps
   * every byte that did arrive and the transfer can resume after them.
   */
  onSourceError?: "error" | "close";
  onProgress?: (transferred: number) => void;
}

/** A stream wrapper that counts bytes and records a failure of its source. */
export class MeteredStream {
  /** Bytes passed on so far. */
  transferred = 0;
  /** The error the source stream failed with, if it did. */
  sourceError: unknown = undefined;
  readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;
  readonly #source: ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>;

  constructor(
    source: ReadableStream<Uint8Array<ArrayBuffer>>,
    readonly options: MeteredStreamOptions,
  ) {
    this.#source = source.getReader();
    this.readable = new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: (controller) => this.#pull(controller),
      cancel: async (reason) => {
        await this.#source.cancel(reason).catch(() => {});
      },
    });
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array<ArrayBuffer>>) {
    let result: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
    try {
      result = await this.#source.read();
    } catch (error) {
      this.sourceError = error ?? new Error("the source stream failed");
      if (this.options.onSourceError === "close") controller.close();
      else controller.error(error);
      return;
    }
    if (result.done) {
      controller.close();
      return;
    }
    const chunk = result.value;
    if (this.transferred + chunk.byteLength > this.options.limit) {
      const error = new RegistryError(
        "digest_mismatch",
        `${this.options.what}: received more than the ${this.options.limit} bytes its ` +
          `descriptor says`,
      );
      await this.#source.cancel(error).catch(() => {});
      controller.error(error);
      return;
    }
    this.transferred += chunk.byteLength;
    controller.enqueue(chunk);
    this.options.onProgress?.(this.transferred);
  }

  /** Cancels the source (e.g. closes the HTTP response) after the consumer gave up. */
  async cancelSource(reason?: unknown): Promise<void> {
    await this.#source.cancel(reason).catch(() => {});
  }
}
