// What this teaches: why a *static* busybox is the perfect seed for an offline base
// image. One self-contained binary provides a shell and ~300 tools ("applets"); it
// picks the applet from the name it was called by (argv[0]), so the image only needs
// links named after each applet. A dynamically linked binary would need its ELF
// interpreter (ld-linux) and libc inside the image too, so it is refused.
// Mirrors how the official busybox image is assembled (docker-library/busybox builds
// busybox statically and links every applet into /bin).

import { invalidArgument } from "../api/errors.ts";

/** Where Debian's busybox-static installs the binary. */
export const DEFAULT_BUSYBOX_PATH = "/bin/busybox";

const missingHint = "install it with `apt-get install -y busybox-static`";

/** Reads the busybox binary, refusing anything that is not a static ELF executable. */
export async function readStaticBusybox(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw invalidArgument(
      `cannot read busybox at ${path} (${error instanceof Error ? error.message : error}): ` +
        missingHint,
    );
  }
  const interpreter = elfInterpreter(bytes, path);
  if (interpreter !== undefined) {
    throw invalidArgument(
      `${path} is dynamically linked (it needs ${interpreter}), so it cannot run alone in an ` +
        `image: ${missingHint}`,
    );
  }
  return bytes;
}

/**
 * The ELF program interpreter of a binary (PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2),
 * or undefined for a statically linked one. Only 64-bit little-endian ELF is read.
 */
export function elfInterpreter(bytes: Uint8Array, path = "binary"): string | undefined {
  const isElf = bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf) throw invalidArgument(`${path} is not an ELF executable`);
  const is64Bit = bytes[4] === 2;
  const isLittleEndian = bytes[5] === 1;
  if (!is64Bit || !isLittleEndian) {
    throw invalidArgument(`${path}: only 64-bit little-endian ELF binaries are supported`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const programHeaderOffset = Number(view.getBigUint64(0x20, true));
  const programHeaderSize = view.getUint16(0x36, true);
  const programHeaderCount = view.getUint16(0x38, true);
  const programInterpreterType = 3; // PT_INTERP
  for (let index = 0; index < programHeaderCount; index++) {
    const header = programHeaderOffset + index * programHeaderSize;
    if (view.getUint32(header, true) !== programInterpreterType) continue;
    const offset = Number(view.getBigUint64(header + 0x08, true));
    const size = Number(view.getBigUint64(header + 0x20, true));
    return new TextDecoder().decode(bytes.subarray(offset, offset + size)).replace(/\0+$/, "");
  }
  return undefined;
}

/**
 * The applet names the binary provides, from `busybox --list-full` (e.g. "usr/bin/[").
 * Only the names are kept: like the official image, every applet lives in /bin.
 * `busybox` itself is the binary, and `linuxrc` only makes sense as an initrd's init.
 */
export async function listApplets(busyboxPath: string): Promise<string[]> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(busyboxPath, {
      args: ["--list-full"],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw invalidArgument(
      `cannot run ${busyboxPath} --list-full (${
        error instanceof Error ? error.message : error
      }): ${missingHint}`,
    );
  }
  if (!output.success) {
    throw invalidArgument(
      `${busyboxPath} --list-full failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
  const names = new TextDecoder().decode(output.stdout)
    .split("\n")
    .map((line) => line.trim().split("/").pop() ?? "")
    .filter((name) => name !== "" && name !== "busybox" && name !== "linuxrc");
  if (names.length === 0) throw invalidArgument(`${busyboxPath} --list-full listed no applets`);
  return [...new Set(names)].sort();
}
