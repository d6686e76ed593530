// What this teaches: extended attributes travel in PAX records as *raw bytes*; a file
// capability (security.capability) is binary, so a reader or writer that treats values
// as text silently breaks `ping` in the image. These tests pin the byte-exact path in
// both directions and against GNU tar, an independent implementation. They also guard
// the two places where mini reaches into tar-stream's internals (tar_reader.ts and
// tar_writer.ts): an upgrade that changes those internals fails here.
// Mirrors containerd's xattr handling tests in pkg/archive and GNU tar's --xattrs.

import { applyLayer } from "../../lib/archive/mod.ts";
import { writeDiffToFile } from "../../lib/archive/diff.ts";
import { lgetxattr, lsetxattr } from "../../lib/archive/syscalls.ts";
import { assertEquals } from "../helpers/assert.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import { run } from "./support.ts";

// Not valid UTF-8 on purpose (0x80, 0xff), with a NUL inside.
const binaryValue = new Uint8Array([0x01, 0x00, 0x00, 0x02, 0x80, 0xff, 0x00, 0x20, 0xc3]);
const ignoreWithoutTar = requirements("archive xattrs vs GNU tar", missingTool("tar"));

async function withDirs(work: (base: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "mini-archive-xattr-" });
  try {
    await work(base);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function fileStream(path: string): Promise<ReadableStream<Uint8Array>> {
  return (await Deno.open(path)).readable;
}

Deno.test("binary xattrs survive diff then apply byte for byte", async () => {
  await withDirs(async (base) => {
    await Deno.mkdir(`${base}/upper/dir`, { recursive: true });
    await Deno.writeTextFile(`${base}/upper/dir/file`, "content");
    lsetxattr(`${base}/upper/dir/file`, "user.binary", binaryValue);
    lsetxattr(`${base}/upper/dir`, "user.text", new TextEncoder().encode("héllo"));
    // Names ustar cannot hold travel as PAX path/linkpath records next to the xattrs.
    const longName = `${"n".repeat(150)}-ü`;
    await Deno.writeTextFile(`${base}/upper/dir/${longName}`, "long");
    lsetxattr(`${base}/upper/dir/${longName}`, "user.binary", binaryValue);
    await Deno.link(`${base}/upper/dir/${longName}`, `${base}/upper/dir/z-${longName}`);
    await writeDiffToFile(`${base}/upper`, `${base}/layer.tar`, { compression: "none" });
    await Deno.mkdir(`${base}/target`);
    await applyLayer(`${base}/target`, await fileStream(`${base}/layer.tar`), {
      whiteoutFormat: "oci",
      allowDevices: false,
      sameOwner: false,
    });
    assertEquals(lgetxattr(`${base}/target/dir/file`, "user.binary"), binaryValue);
    assertEquals(lgetxattr(`${base}/target/dir/${longName}`, "user.binary"), binaryValue);
    const linked = await Deno.lstat(`${base}/target/dir/z-${longName}`);
    assertEquals(linked.ino, (await Deno.lstat(`${base}/target/dir/${longName}`)).ino);
    assertEquals(
      new TextDecoder().decode(lgetxattr(`${base}/target/dir`, "user.text")),
      "héllo",
    );
  });
});

Deno.test({
  name: "GNU tar reads the binary xattrs mini writes",
  ignore: ignoreWithoutTar,
  fn: async () => {
    await withDirs(async (base) => {
      await Deno.mkdir(`${base}/upper`);
      await Deno.writeTextFile(`${base}/upper/file`, "content");
      lsetxattr(`${base}/upper/file`, "user.binary", binaryValue);
      // A long non-ASCII name too: it needs a PAX path next to the xattr records.
      const longName = `${"ü".repeat(80)}.txt`;
      await Deno.writeTextFile(`${base}/upper/${longName}`, "long");
      await writeDiffToFile(`${base}/upper`, `${base}/layer.tar`, { compression: "none" });
      await Deno.mkdir(`${base}/gnu`);
      await run("tar", [
        "--xattrs",
        "--xattrs-include=*",
        "-xf",
        `${base}/layer.tar`,
        "-C",
        `${base}/gnu`,
      ]);
      assertEquals(lgetxattr(`${base}/gnu/file`, "user.binary"), binaryValue);
      assertEquals(await Deno.readTextFile(`${base}/gnu/${longName}`), "long");
    });
  },
});

Deno.test({
  name: "mini reads the binary xattrs GNU tar writes",
  ignore: ignoreWithoutTar,
  fn: async () => {
    await withDirs(async (base) => {
      await Deno.mkdir(`${base}/source`);
      await Deno.writeTextFile(`${base}/source/file`, "content");
      lsetxattr(`${base}/source/file`, "user.binary", binaryValue);
      await run("tar", [
        "--xattrs",
        "--xattrs-include=*",
        "--format=posix",
        "-cf",
        `${base}/layer.tar`,
        "-C",
        `${base}/source`,
        "file",
      ]);
      await Deno.mkdir(`${base}/target`);
      await applyLayer(`${base}/target`, await fileStream(`${base}/layer.tar`), {
        whiteoutFormat: "oci",
        allowDevices: false,
        sameOwner: false,
      });
      assertEquals(lgetxattr(`${base}/target/file`, "user.binary"), binaryValue);
    });
  },
});
