// What this teaches: bytes flow from the registry to the content store (or back)
// without ever being held whole in memory. A pass-through stream on the way counts
// them for the progress bars, stops a sender that sends more than the descriptor
// promised, and remembers whether the *source* failed (a dropped connection, worth
// resuming) as opposed to the destination refusing the bytes.

import { RegistryError } from "./errors.ts";

/** A stream wrapper that counts bytes and records a failure of its source. */
export class MeteredStream {
  /** Bytes passed through so far. */
  transferred = 0;
  /** The error the source stream failed with, if it did. */
  sourceError: unknown = undefined;
  readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;
  readonly #source: ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>;

  constructor(
    source: ReadableStream<Uint8Array<ArrayBuffer>>,
    options: {
      /** Refuse more than this many bytes. */
      limit: number;
      what: string;
      /**
       * What a failing source does to the consumer: "error" passes the failure on;
       * "close" ends the stream cleanly, so everything already passed on is kept by
       * the consumer (a content-store ingest) and the transfer can resume from there.
       */
      onSourceError?: "error" | "close";
      onProgress?: (transferred: number) => void;
    },
  ) {
    const reader = source.getReader();
    this.#source = reader;
    this.readable = new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        let result: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
        try {
          result = await reader.read();
        } catch (error) {
          this.sourceError = error ?? new Error("the source stream failed");
          if (options.onSourceError === "close") controller.close();
          else controller.error(error);
          return;
        }
        if (result.done) {
          controller.close();
          return;
        }
        this.transferred += result.value.byteLength;
        if (this.transferred > options.limit) {
          const error = new RegistryError(
            "digest_mismatch",
            `${options.what}: received more than the ${options.limit} bytes its descriptor says`,
          );
          await reader.cancel(error).catch(() => {});
          controller.error(error);
          return;
        }
        controller.enqueue(result.value);
        options.onProgress?.(this.transferred);
      },
      cancel: async (reason) => {
        await reader.cancel(reason).catch(() => {});
      },
    });
  }

  /** Cancels the source (e.g. closes the HTTP response) after the consumer gave up. */
  async cancelSource(reason?: unknown): Promise<void> {
    await this.#source.cancel(reason).catch(() => {});
  }
}
