// Every top-level mini-ctr command, in the order `mini-ctr --help` lists them.
//
// Why the entries load their module on demand: mini-ctr is a short-lived process
// started for every command, and importing every command (with the registry client,
// the archive code, the runtime spec builder...) costs Deno more time than running
// most commands. Go's ctr pays nothing for code it does not run; here each command's
// module is imported only when that command is chosen. A new command group is one
// entry here.

import type { CtrCommand } from "../types.ts";

/** A command as the top level knows it before loading it. */
export interface CommandEntry {
  name: string;
  aliases: string[];
  summary: string;
  load(): Promise<CtrCommand>;
}

export const commands: CommandEntry[] = [
  {
    name: "containers",
    aliases: ["c", "container"],
    summary: "manage containers",
    load: async () => (await import("./containers.ts")).containersCommand,
  },
  {
    name: "content",
    aliases: [],
    summary: "manage content",
    load: async () => (await import("./content.ts")).contentCommand,
  },
  {
    name: "events",
    aliases: ["event"],
    summary: "display containerd events",
    load: async () => (await import("./events.ts")).eventsCommand,
  },
  {
    name: "images",
    aliases: ["image", "i"],
    summary: "manage images",
    load: async () => (await import("./images.ts")).imagesCommand,
  },
  {
    name: "leases",
    aliases: [],
    summary: "manage leases",
    load: async () => (await import("./leases.ts")).leasesCommand,
  },
  {
    name: "namespaces",
    aliases: ["namespace", "ns"],
    summary: "manage namespaces",
    load: async () => (await import("./namespaces.ts")).namespacesCommand,
  },
  {
    name: "run",
    aliases: [],
    summary: "run a container",
    load: async () => (await import("./run.ts")).runCommand,
  },
  {
    name: "snapshots",
    aliases: ["snapshot"],
    summary: "manage snapshots",
    load: async () => (await import("./snapshots.ts")).snapshotsCommand,
  },
  {
    name: "tasks",
    aliases: ["t", "task"],
    summary: "manage tasks",
    load: async () => (await import("./tasks.ts")).tasksCommand,
  },
  {
    name: "version",
    aliases: [],
    summary: "print the client and server versions",
    load: async () => (await import("./version.ts")).versionCommand,
  },
];

/** The command named `name` (or one of its aliases), if mini-ctr has one. */
export function findCommandEntry(name: string): CommandEntry | undefined {
  return commands.find((candidate) => candidate.name === name || candidate.aliases.includes(name));
}
