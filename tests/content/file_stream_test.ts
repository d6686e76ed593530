// Unit tests of the large-chunk file stream (lib/content/file_stream.ts).

import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";
import { openFileStream, readableFromSource } from "../../lib/content/file_stream.ts";
import { pseudoRandomBytes } from "./helpers.ts";

Deno.test("file stream: yields the whole file in large chunks and closes it", async () => {
  const directory = await Deno.makeTempDir({ prefix: "mini-file-stream-" });
  try {
    const data = pseudoRandomBytes(10 * 1024 * 1024 + 3, 9);
    const path = join(directory, "blob");
    await Deno.writeFile(path, data);
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    for await (const chunk of await openFileStream(path)) chunks.push(chunk);
    assertEquals(chunks.map((chunk) => chunk.byteLength), [4194304, 4194304, 2097155]);
    assertEquals(new Uint8Array(await new Blob(chunks).arrayBuffer()), data);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("file stream: short reads (a pipe) are copied out, not pinned in large buffers", async () => {
  let served = 0;
  let closed = false;
  const source = {
    read(buffer: Uint8Array): Promise<number | null> {
      if (served >= 50) return Promise.resolve(null);
      buffer.set([served, served + 1, served + 2, served + 3, served + 4]);
      served += 5;
      return Promise.resolve(5);
    },
    close() {
      closed = true;
    },
  };
  const chunks: Uint8Array[] = [];
  for await (const chunk of readableFromSource(source, { chunkBytes: 1024 })) chunks.push(chunk);
  assertEquals(chunks.length, 10);
  assert(chunks.every((chunk) => chunk.buffer.byteLength === 5), "each chunk owns a small buffer");
  assertEquals([...chunks[3]], [15, 16, 17, 18, 19]);
  assert(closed, "the source is closed at the end");
});
