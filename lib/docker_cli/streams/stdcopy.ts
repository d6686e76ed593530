// What this teaches: without a terminal, a container's stdout and stderr travel over
// ONE connection, so the daemon wraps every chunk in an 8-byte header: byte 0 says
// which stream (0 stdin, 1 stdout, 2 stderr, 3 a daemon error), bytes 4-7 the payload
// length (big-endian). The client takes the frames apart again and writes each payload
// to its own stdout or stderr. With a tty there is only one stream and no framing.
// Mirrors moby's pkg/stdcopy/stdcopy.go (StdCopy, NewStdWriter).

/** Stream numbers in the frame header. */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

const HEADER_SIZE = 8;

/** Wraps a payload in one frame, as the daemon does. */
export function frame(stream: number, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const result = new Uint8Array(HEADER_SIZE + bytes.length);
  result[0] = stream;
  new DataView(result.buffer).setUint32(4, bytes.length, false);
  result.set(bytes, HEADER_SIZE);
  return result;
}

/** Where demultiplexed payloads go. */
export interface DemuxTargets {
  stdout?: (bytes: Uint8Array) => void | Promise<void>;
  stderr?: (bytes: Uint8Array) => void | Promise<void>;
}

/** Splits a framed byte stream back into stdout and stderr; push() bytes as they arrive. */
export class Demultiplexer {
  #buffer = new Uint8Array(0);

  constructor(readonly targets: DemuxTargets) {}

  /** Feeds bytes; writes every complete frame. Throws on a daemon error frame. */
  async push(chunk: Uint8Array): Promise<void> {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    let offset = 0;
    while (joined.length - offset >= HEADER_SIZE) {
      const stream = joined[offset];
      const length = new DataView(joined.buffer, joined.byteOffset + offset + 4, 4).getUint32(
        0,
        false,
      );
      if (joined.length - offset - HEADER_SIZE < length) break;
      const payload = joined.subarray(offset + HEADER_SIZE, offset + HEADER_SIZE + length);
      offset += HEADER_SIZE + length;
      switch (stream) {
        case STDIN:
        case STDOUT:
          await this.targets.stdout?.(payload);
          break;
        case STDERR:
          await this.targets.stderr?.(payload);
          break;
        case SYSTEMERR:
          throw new Error(`error from daemon in stream: ${new TextDecoder().decode(payload)}`);
        default:
          throw new Error(`Unrecognized input header: ${stream}`);
      }
    }
    this.#buffer = joined.slice(offset);
  }

  /** Bytes of an incomplete frame left at the end (0 when the stream ended cleanly). */
  get pending(): number {
    return this.#buffer.length;
  }
}

/** Demultiplexes a whole framed buffer into its stdout and stderr text (for tests and tools). */
export async function demultiplexAll(
  bytes: Uint8Array,
): Promise<{ stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const decoder = new TextDecoder();
  const demux = new Demultiplexer({
    stdout: (payload) => void (stdout += decoder.decode(payload)),
    stderr: (payload) => void (stderr += decoder.decode(payload)),
  });
  await demux.push(bytes);
  return { stdout, stderr };
}
