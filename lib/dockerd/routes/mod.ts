// The API components of mini-dockerd, in registration order. A component is one
// EngineModule (see ../types.ts); to add one, import it here and add it to the list
// (one line each). notImplementedModule goes last: its routes are fallbacks.
import type { EngineModule } from "../types.ts";
import { systemModule } from "./system.ts";
import { imagesModule } from "./images.ts";
import { networksModule } from "./networks.ts";
import { containersModule } from "./containers.ts";
import { buildModule } from "./build.ts";
import { notImplementedModule } from "./not_implemented.ts";

/** Every component mini-dockerd loads. */
export const ENGINE_MODULES: EngineModule[] = [
  systemModule,
  imagesModule,
  networksModule,
  containersModule,
  buildModule,
  notImplementedModule,
];
