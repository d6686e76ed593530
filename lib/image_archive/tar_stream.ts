// What this teaches: an image archive is one tar stream, read front to back exactly
// once. Each entry's body must be consumed (here: streamed into the content store)
// before the next header can be parsed, so a multi-gigabyte archive never sits in
// memory. Writing is the mirror image: records are emitted one after another, each
// body pulled from its source only when its turn comes.
// Mirrors the tar.Reader loop of containerd's core/images/archive/importer.go and the
// tarRecord/writeTar pair of core/images/archive/exporter.go, on top of the npm
// `tar-stream` parser and packer.

import { extract, type Header, pack } from "tar-stream";
import { invalidArgument } from "../api/errors.ts";

/** One entry of a tar stream being read; `body` must be read (or left) before the next. */
export interface TarStreamEntry {
  header: Header;
  /** The entry's bytes; whatever the consumer leaves unread is skipped automatically. */
  body: AsyncIterable<Uint8Array>;
}

/** The minimal event surface of streamx streams that the helpers below wait on. */
interface EventSource {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Resolves on `event`, or when the stream closes or fails first (so nobody waits forever). */
function waitFor(stream: EventSource, event: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off(event, done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.once(event, done);
    stream.once("close", done);
    stream.once("error", done);
  });
}

/** Rewords tar-stream's terse parser errors into what a user can act on. */
function tarError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/Unexpected end of data/i.test(message)) {
    return invalidArgument(
      "the archive is truncated: the tar stream ended in the middle of an entry",
    );
  }
  if (/Invalid tar header|Invalid header/i.test(message)) {
    return invalidArgument(
      `the archive is not a valid tar stream (${message}); is it damaged, or compressed with ` +
        "something other than gzip?",
    );
  }
  return error instanceof Error ? error : new Error(message);
}

/**
 * One entry's body as an iterable that many loops may share in turn: reads go one at
 * a time through a single underlying iterator, errors are reworded, and leaving a
 * loop early does not end the entry (with tar-stream, ending an entry's iterator
 * destroys the whole archive stream).
 */
class EntryBody implements AsyncIterable<Uint8Array> {
  readonly #source: AsyncIterator<Uint8Array>;
  #finished = false;
  #previous: Promise<unknown> = Promise.resolve();

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Reads the next chunk after every earlier read has settled. */
  next(): Promise<IteratorResult<Uint8Array>> {
    const read = this.#previous.then(async (): Promise<IteratorResult<Uint8Array>> => {
      if (this.#finished) return { done: true, value: undefined };
      try {
        const result = await this.#source.next();
        if (result.done) this.#finished = true;
        return result;
      } catch (error) {
        this.#finished = true;
        throw tarError(error);
      }
    });
    this.#previous = read.catch(() => {});
    return read;
  }

  /** Reads and discards the rest of the entry. */
  async skipRest(): Promise<void> {
    while (!(await this.next()).done) { /* discard */ }
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }
}

/**
 * Parses a tar stream and yields its entries in archive order. The consumer may read
 * each entry's body or leave it: the rest is drained before the next entry. Errors of
 * the input (e.g. a corrupt gzip layer under it) and of the parser surface from the
 * iteration.
 */
export async function* readTarEntries(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<TarStreamEntry> {
  const extractor = extract();
  const events = extractor as unknown as EventSource;
  let feedError: unknown;
  const stopFeeding = new AbortController();
  const feeding = (async () => {
    try {
      for await (const chunk of chunks) {
        if (stopFeeding.signal.aborted) return;
        if (!extractor.write(chunk)) await waitFor(events, "drain");
        if (extractor.destroyed) return;
      }
      (extractor as unknown as { end(): void }).end();
    } catch (error) {
      feedError = error;
      extractor.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();

  try {
    for await (const source of extractor) {
      const entry = source as unknown as AsyncIterable<Uint8Array> & { header: Header };
      const body = new EntryBody(entry);
      yield { header: entry.header, body };
      // Skip whatever the consumer left unread, so the parser can move on.
      await body.skipRest();
    }
  } catch (error) {
    throw feedError !== undefined ? feedError : tarError(error);
  } finally {
    stopFeeding.abort();
    if (!extractor.destroyed) extractor.destroy();
    await feeding;
  }
  if (feedError !== undefined) throw feedError;
}

/** The bytes of a file record: in memory, or streamed. */
export type RecordBody = Uint8Array | AsyncIterable<Uint8Array>;

/** One record to write into a tar stream. */
export interface TarRecord {
  name: string;
  type: "file" | "directory" | "link" | "symlink";
  mode: number;
  /** Byte size of a file record's body (0 for others). */
  size?: number;
  /** Target of a hardlink (an earlier record's name) or symlink. */
  linkname?: string;
  /** Defaults to the Unix epoch: archives are reproducible unless a time is asked for. */
  mtime?: Date;
  uid?: number;
  gid?: number;
  /** The body of a file record; called only when the record's turn comes. */
  body?: () => RecordBody | Promise<RecordBody>;
}

const epoch = new Date(0);

async function writeRecord(packer: ReturnType<typeof pack>, record: TarRecord): Promise<void> {
  const name = record.type === "directory" && !record.name.endsWith("/")
    ? `${record.name}/`
    : record.name;
  const size = record.type === "file" ? record.size ?? 0 : 0;
  const finished = Promise.withResolvers<void>();
  const sink = packer.entry({
    name,
    type: record.type,
    mode: record.mode,
    size,
    linkname: record.linkname,
    mtime: record.mtime ?? epoch,
    uid: record.uid ?? 0,
    gid: record.gid ?? 0,
  }, (error) => error ? finished.reject(error) : finished.resolve());
  const sinkEvents = sink as unknown as EventSource;
  let written = 0;
  if (record.type === "file" && size > 0) {
    if (!record.body) throw new Error(`tar record ${name} has ${size} bytes but no body`);
    const body = await record.body();
    const chunks = body instanceof Uint8Array ? [body] : body;
    for await (const chunk of chunks) {
      written += chunk.byteLength;
      if (written > size) {
        throw new Error(`tar record ${name}: the body is longer than the declared ${size} bytes`);
      }
      if (!sink.write(chunk)) await waitFor(sinkEvents, "drain");
    }
  }
  if (written !== size) {
    throw new Error(`tar record ${name}: the body has ${written} bytes, the header says ${size}`);
  }
  (sink as unknown as { end(): void }).end();
  await finished.promise;
}

/**
 * Writes records as one tar stream, in the given order. Bodies are pulled one at a
 * time with backpressure, so exporting a large image streams from the content store
 * to the output without buffering layers.
 */
export function writeTar(records: TarRecord[]): ReadableStream<Uint8Array> {
  const packer = pack();
  const producing = (async () => {
    for (const record of records) await writeRecord(packer, record);
    packer.finalize();
  })();
  producing.catch((error) => packer.destroy(error instanceof Error ? error : new Error(error)));
  const output = packer as unknown as AsyncIterable<Uint8Array>;
  const iterator = output[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (done) {
          await producing;
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        // The packer fails because a record failed: report the record's error.
        controller.error(await producing.then(() => error, (reason) => reason));
      }
    },
    async cancel(reason) {
      packer.destroy(reason instanceof Error ? reason : new Error(String(reason ?? "cancelled")));
      await producing.catch(() => {});
    },
  });
}
