// What this teaches: `ctr images pull` runs the registry client *in the CLI process*,
// as containerd 1.6's ctr does: it resolves and downloads on the client side and
// writes every blob into the daemon's content store through the API, under a lease
// so that garbage collection leaves the half-pulled image alone; then it records the
// image and unpacks its layers into snapshots, printing ctr's progress display.
// Mirrors containerd's `cmd/ctr/commands/images/pull.go` and
// `cmd/ctr/commands/content/fetch.go` (`Fetch`, `ShowProgress`).

import type { Platform } from "../../images/types.ts";
import { defaultPlatform } from "../../platforms/compare.ts";
import { formatPlatform, parsePlatform } from "../../platforms/parse.ts";
import { defaultCredentialsLookup } from "../../registry/credentials.ts";
import { TransferTracker } from "../../registry/progress.ts";
import { pullImage } from "../../registry/pull.ts";
import { unpackImage } from "../../unpack/mod.ts";
import { formatGoDuration, ProgressDisplay } from "../progress.ts";
import { parseSubcommandArguments } from "../arguments.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

const usage = `Usage: mini-ctr images pull [options] REF

Fetch an image from a registry into the content store, record it, and unpack it
into snapshots. REF is normalized like Docker's: busybox means
docker.io/library/busybox:latest. Registries on localhost, 127.0.0.1 and [::1] are
spoken to over plain HTTP; others over HTTPS unless --plain-http is given.

Credentials come from --user, else from the "auths" of the Docker config.json
($DOCKER_CONFIG/config.json or ~/.docker/config.json).

Options:
  --plain-http                    use HTTP instead of HTTPS
  --user, -u USER:PASSWORD        registry credentials
  --platform P                    pull content for platform P (repeatable; default: this host's)
  --all-platforms                 pull content for every platform of the index
  --no-unpack                     do not unpack into snapshots
  --max-concurrent-downloads N    blobs downloaded at once (default 0: no limit, as ctr)`;

/** A lease lives a day at most, as ctr's default lease (`leases.WithExpiration(24h)`). */
const LEASE_LIFETIME_MS = 24 * 60 * 60 * 1000;

export const pullSubcommand: CtrSubcommand = {
  name: "pull",
  usage,
  aliases: [],
  summary: "pull an image from a remote registry",
  async run(args, { client }) {
    const parsed = parseSubcommandArguments(args, {
      "plain-http": { type: "boolean" },
      user: { type: "string", short: "u" },
      platform: { type: "string", multiple: true },
      "all-platforms": { type: "boolean" },
      "no-unpack": { type: "boolean" },
      "max-concurrent-downloads": { type: "string" },
    }, usage);
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError(`expected one image reference\n\n${usage}`);
    const concurrency = Number(values["max-concurrent-downloads"] ?? "0");
    if (!Number.isInteger(concurrency) || concurrency < 0) {
      throw new UsageError("--max-concurrent-downloads must be a number (0: no limit)");
    }
    const platforms = (values.platform ?? []).map(parsePlatform);

    const tracker = new TransferTracker();
    const display = new ProgressDisplay(tracker);
    const lease = await client.leases.create({ expiresInMs: LEASE_LIFETIME_MS });
    try {
      display.start();
      let result;
      try {
        result = await pullImage(
          { content: client.content.withLease(lease.id), images: client.images },
          positionals[0],
          {
            plainHttp: values["plain-http"],
            credentials: defaultCredentialsLookup({ user: values.user }),
            platforms,
            allPlatforms: values["all-platforms"],
            maxConcurrentDownloads: concurrency,
            tracker,
          },
        );
      } finally {
        display.stop();
      }
      if (values["no-unpack"]) return 0;
      const unpackPlatforms = new Map<string, Platform>();
      for (const manifest of result.manifests) {
        const platform = manifest.platform ?? defaultPlatform();
        unpackPlatforms.set(formatPlatform(platform), platform);
      }
      // As ctr, "done" reports the time the unpacking took.
      const unpackStarted = performance.now();
      for (const platform of unpackPlatforms.values()) {
        console.log(`unpacking ${formatPlatform(platform)} ${result.image.target.digest}...`);
        await unpackImage(client, result.image.name, { platform });
      }
      console.log(`done: ${formatGoDuration(performance.now() - unpackStarted)}\t`);
      return 0;
    } finally {
      await client.leases.delete(lease.id).catch(() => {});
    }
  },
};
