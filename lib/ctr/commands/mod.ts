// Every top-level mini-ctr command, in the order `mini-ctr --help` lists them.
// A new command group is one import and one entry here.

import type { CtrCommand } from "../types.ts";
import { imagesCommand } from "./images.ts";
import { contentCommand } from "./content.ts";
import { leasesCommand } from "./leases.ts";
import { namespacesCommand } from "./namespaces.ts";
import { snapshotsCommand } from "./snapshots.ts";
import { versionCommand } from "./version.ts";
import { containersCommand } from "./containers.ts";
import { eventsCommand } from "./events.ts";
import { runCommand } from "./run.ts";
import { tasksCommand } from "./tasks.ts";

export const commands: CtrCommand[] = [
  containersCommand,
  contentCommand,
  eventsCommand,
  imagesCommand,
  leasesCommand,
  namespacesCommand,
  runCommand,
  snapshotsCommand,
  tasksCommand,
  versionCommand,
];
