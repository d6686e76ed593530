// Writes the offline busybox base image as an OCI archive: set-up runs
// `deno run -A scripts/build_base_image.ts OUT.tar`, then `mini-ctr images import OUT.tar`.
// The builder itself is lib/base_image/.

import { writeBaseImageArchive } from "../lib/base_image/mod.ts";

const [output, ...rest] = Deno.args;
if (!output || rest.length > 0 || output === "--help" || output === "-h") {
  console.error("Usage: deno run -A scripts/build_base_image.ts OUT.tar");
  Deno.exit(output === "--help" || output === "-h" ? 0 : 2);
}
try {
  const image = await writeBaseImageArchive(output);
  console.log(`${image.name} ${image.manifest.digest} -> ${output}`);
} catch (error) {
  console.error(`build_base_image: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
}
