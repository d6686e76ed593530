// What this teaches: clients ask the daemon who it is before anything else
// (`ctr version`). Mirrors containerd's `api/services/version/v1`.

import type { Router } from "../../api/server.ts";
import { VERSION_SERVICE } from "../../api/services.ts";

/** The version mini-containerd reports. */
export const MINI_CONTAINERD_VERSION = "0.1.0";

/** Registers Version. */
export function registerVersionService(router: Router): void {
  router.add(VERSION_SERVICE, "Version", () => ({
    version: MINI_CONTAINERD_VERSION,
    revision: "mini",
    routes: router.routes(),
  }));
}
