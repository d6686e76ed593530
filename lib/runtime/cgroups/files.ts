// What this teaches: cgroup control files are written one value at a time, and the kernel
// answers a bad value with EINVAL (or EBUSY, or ENOSPC) on that write. Reporting which
// file and which value turns "Invalid argument" into something a user can fix.
// Mirrors runc's libcontainer/cgroups/file.go (WriteFile, ReadFile) and paths helpers.

/** Writes one value to a cgroup control file. */
export function writeCgroupFile(directory: string, file: string, value: string | number): void {
  try {
    Deno.writeTextFileSync(`${directory}/${file}`, String(value), { create: false });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot set ${file} to ${JSON.stringify(String(value))}: ${reason}`);
  }
}

/** Reads a cgroup control file, trimmed. */
export function readCgroupFile(directory: string, file: string): string {
  return Deno.readTextFileSync(`${directory}/${file}`).trim();
}

/** True when the control file exists (controllers and kernel options vary). */
export function hasCgroupFile(directory: string, file: string): boolean {
  try {
    Deno.statSync(`${directory}/${file}`);
    return true;
  } catch {
    return false;
  }
}

/** PIDs in `directory`'s cgroup.procs and in every sub-cgroup below it. */
export function collectPids(directory: string): number[] {
  const pids: number[] = [];
  const visit = (path: string) => {
    let text = "";
    try {
      text = Deno.readTextFileSync(`${path}/cgroup.procs`);
    } catch {
      return; // removed meanwhile
    }
    for (const line of text.split("\n")) if (line !== "") pids.push(Number(line));
    for (const entry of Deno.readDirSync(path)) {
      if (entry.isDirectory) visit(`${path}/${entry.name}`);
    }
  };
  visit(directory);
  return pids;
}

/**
 * Creates `path` and any missing parents below `mountRoot`; returns the directories that
 * did not exist before (parents first), so that delete removes exactly those.
 */
export function makeCgroupDirectories(mountRoot: string, path: string): string[] {
  const created: string[] = [];
  const relative = path.slice(mountRoot.length).split("/").filter((part) => part !== "");
  let current = mountRoot;
  for (let index = 0; index < relative.length; index++) {
    current = `${current}/${relative[index]}`;
    try {
      Deno.mkdirSync(current);
      created.push(current);
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) continue;
      // A parent another container was removing just now: start over from the top.
      if (error instanceof Deno.errors.NotFound && index > 0) {
        current = mountRoot;
        index = -1;
        continue;
      }
      throw error;
    }
  }
  return created;
}

/**
 * rmdir of each directory, deepest first. The container's own (deepest) directory must
 * go: while its last processes finish exiting the kernel answers EBUSY, so retry for a
 * while. Parents we created are removed only when nothing else lives in them now.
 */
export function removeCgroupDirectories(directories: readonly string[]): void {
  const [leaf, ...parents] = [...directories].reverse();
  if (leaf === undefined) return;
  for (let attempt = 0;; attempt++) {
    try {
      Deno.removeSync(leaf);
      break;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) break;
      if (attempt >= 400) {
        throw new Error(`cannot remove cgroup ${leaf}: ${(error as Error).message}`);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  for (const parent of parents) {
    try {
      Deno.removeSync(parent);
    } catch {
      return; // another container's cgroup lives here (or it is gone): leave it
    }
  }
}
