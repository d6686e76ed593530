// What this teaches: `ctr images push REMOTE [LOCAL]` reads an image out of the
// daemon's content store and uploads it from the CLI process: blobs the registry
// lacks (mounting those it can from another repository), then the manifests, the
// root under the tag. The progress display is the pull's, with "uploading".
// Mirrors containerd's `cmd/ctr/commands/images/push.go`.

import { parsePlatform } from "../../platforms/parse.ts";
import { normalizeReference } from "../../reference/normalize.ts";
import { defaultCredentialsLookup } from "../../registry/credentials.ts";
import { TransferTracker } from "../../registry/progress.ts";
import { pushImage } from "../../registry/push.ts";
import { ProgressDisplay } from "../progress.ts";
import { parseSubcommandArguments } from "../arguments.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

const usage = `Usage: mini-ctr images push [options] REMOTE [LOCAL]

Push the local image LOCAL (default: REMOTE) to the registry as REMOTE. REMOTE is
normalized like Docker's (busybox means docker.io/library/busybox:latest).
Registries on localhost, 127.0.0.1 and [::1] get plain HTTP.

Options:
  --plain-http                          use HTTP instead of HTTPS
  --user, -u USER:PASSWORD              registry credentials (else the Docker config.json)
  --platform P                          push only platform P's manifest of an index, under the tag
  --max-concurrent-uploaded-layers N    blobs uploaded at once (default 0: no limit, as ctr)
  --chunk-size BYTES                    upload blobs in PATCH chunks of this size`;

export const pushSubcommand: CtrSubcommand = {
  name: "push",
  usage,
  aliases: [],
  summary: "push an image to a remote registry",
  async run(args, { client }) {
    const parsed = parseSubcommandArguments(args, {
      "plain-http": { type: "boolean" },
      user: { type: "string", short: "u" },
      platform: { type: "string" },
      "max-concurrent-uploaded-layers": { type: "string" },
      "chunk-size": { type: "string" },
    }, usage);
    const { values, positionals } = parsed;
    if (positionals.length < 1 || positionals.length > 2) {
      throw new UsageError(`expected REMOTE and optionally LOCAL\n\n${usage}`);
    }
    const concurrency = Number(values["max-concurrent-uploaded-layers"] ?? "0");
    if (!Number.isInteger(concurrency) || concurrency < 0) {
      throw new UsageError("--max-concurrent-uploaded-layers must be a number (0: no limit)");
    }
    const chunkSize = values["chunk-size"] === undefined ? undefined : Number(values["chunk-size"]);
    if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1)) {
      throw new UsageError("--chunk-size must be a positive number of bytes");
    }
    const [remote, local = remote] = positionals;
    const localName = await localImageName(client.images, local);
    const tracker = new TransferTracker();
    const display = new ProgressDisplay(tracker);
    display.start();
    try {
      await pushImage({ content: client.content, images: client.images }, localName, remote, {
        plainHttp: values["plain-http"],
        credentials: defaultCredentialsLookup({ user: values.user }),
        maxConcurrentUploads: concurrency,
        platform: values.platform ? parsePlatform(values.platform) : undefined,
        chunkSize,
        tracker,
      });
    } finally {
      display.stop();
    }
    return 0;
  },
};

/**
 * The local image's record name: as typed, or normalized (`busybox` →
 * `docker.io/library/busybox:latest`) when only the normalized name exists.
 */
async function localImageName(
  images: { get(name: string): Promise<unknown> },
  typed: string,
): Promise<string> {
  try {
    await images.get(typed);
    return typed;
  } catch {
    return normalizeReference(typed);
  }
}
