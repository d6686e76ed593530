// Every top-level mini-ctr command, in the order `mini-ctr --help` lists them.
// A new command group is one import and one entry here.

import type { CtrCommand } from "../types.ts";
import { namespacesCommand } from "./namespaces.ts";
import { versionCommand } from "./version.ts";

export const commands: CtrCommand[] = [
  namespacesCommand,
  versionCommand,
];
