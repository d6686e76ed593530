// What this teaches: `ctr images` (aliases `image`, `i`), the command group over the
// Images service. Each subcommand lives in its own `images_<name>.ts` module.
// Mirrors containerd's `cmd/ctr/commands/images/images.go`.
//
// Adding a subcommand (import, export, mount, pull, push, ...) is one import line and
// one entry in `imageSubcommands` below, e.g.
//   import { importSubcommand } from "./images_import.ts";
//   ...
//   importSubcommand,
// A subcommand is a CtrSubcommand (../types.ts): name, aliases, summary, run(args, context).
// parseSubcommandArguments (../arguments.ts) reads its flags as ctr's do.

import { commandGroup } from "../group.ts";
import type { CtrSubcommand } from "../types.ts";
import { exportSubcommand } from "./images_export.ts";
import { importSubcommand } from "./images_import.ts";
import { inspectSubcommand } from "./images_inspect.ts";
import { labelSubcommand } from "./images_label.ts";
import { listSubcommand } from "./images_list.ts";
import { pullSubcommand } from "./images_pull.ts";
import { pushSubcommand } from "./images_push.ts";
import { imagesMountSubcommand, imagesUnmountSubcommand } from "./images_mount.ts";
import { removeSubcommand } from "./images_remove.ts";
import { tagSubcommand } from "./images_tag.ts";

/** The subcommands of `mini-ctr images`, in the order `mini-ctr images --help` lists them. */
export const imageSubcommands: CtrSubcommand[] = [
  exportSubcommand,
  importSubcommand,
  inspectSubcommand,
  labelSubcommand,
  listSubcommand,
  pullSubcommand,
  pushSubcommand,
  imagesMountSubcommand,
  removeSubcommand,
  tagSubcommand,
  imagesUnmountSubcommand,
];

export const imagesCommand = commandGroup(
  "images",
  ["image", "i"],
  "manage images",
  imageSubcommands,
);
