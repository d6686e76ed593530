// What this teaches: `ctr version` prints the client's and the server's versions,
// the quickest way to see whether the daemon answers on the socket you think.
// Mirrors containerd's cmd/ctr/commands/version/version.go.

import type { CtrCommand } from "../types.ts";
import { MINI_CONTAINERD_VERSION } from "../../containerd/services/version.ts";

export const versionCommand: CtrCommand = {
  name: "version",
  aliases: [],
  summary: "print the client and server versions",
  async run(_args, { client }) {
    console.log(`Client:\n  Version:  ${MINI_CONTAINERD_VERSION}\n  Revision: mini\n`);
    const server = await client.version();
    console.log(`Server:\n  Version:  ${server.version}\n  Revision: ${server.revision}`);
    return 0;
  },
};
