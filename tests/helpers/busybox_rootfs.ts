// What this teaches: the smallest root filesystem a container can run, built by hand: a
// static busybox, one symlink per applet, and the passwd/group files tools look up.
// Mirrors the "make a rootfs" step of runc's README (there: `docker export busybox`).

import { join } from "node:path";

/** Builds a busybox root filesystem (static binary + applet links) at `directory`. */
export async function buildBusyboxRootfs(directory: string): Promise<string> {
  for (const sub of ["bin", "proc", "sys", "dev", "etc", "tmp", "root"]) {
    await Deno.mkdir(join(directory, sub), { recursive: true });
  }
  const located = await new Deno.Command("sh", {
    args: ["-c", "command -v busybox"],
    stdout: "piped",
  }).output();
  const busybox = new TextDecoder().decode(located.stdout).trim();
  if (busybox === "") {
    throw new Error("busybox is not on PATH: run scripts/install.sh --test-peers");
  }
  // Ask the host's binary for the applet list, not the fresh copy: test files run as
  // threads of one process, and a child another thread forks while the copy is still open
  // for writing keeps that fd, so executing the copy right away can fail with ETXTBSY.
  const list = await new Deno.Command(busybox, { args: ["--list"], stdout: "piped" }).output();
  await Deno.copyFile(busybox, join(directory, "bin/busybox"));
  await Deno.chmod(join(directory, "bin/busybox"), 0o755);
  for (const applet of new TextDecoder().decode(list.stdout).split("\n")) {
    if (applet === "" || applet === "busybox") continue;
    await Deno.symlink("busybox", join(directory, "bin", applet));
  }
  await Deno.writeTextFile(join(directory, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  await Deno.writeTextFile(join(directory, "etc/group"), "root:x:0:\n");
  return directory;
}
