// What this teaches: what a registry transfer needs from the container daemon, and
// what it hands back. A pull only needs the content store (to write blobs through
// ingests and label them) and the image store (to record the name); a push only reads
// them. Passing these two services in, instead of a whole client, is what lets
// mini-ctr (over the socket) and mini-dockerd (in process) share the same code.
// Mirrors the `content.Store` + `images.Store` pair that containerd's `client.Pull`
// and `remotes.PushContent` work against.

import type { ContentApi } from "../content/types.ts";
import type { Descriptor, Image, ImagesApi, Platform } from "../images/types.ts";
import type { Labels } from "../metadata/db.ts";
import type { TransferTracker } from "./progress.ts";
import type { ResolvedReference, Resolver, ResolverOptions } from "./resolver.ts";

/** The two services a pull or push works with. */
export interface RegistryServices {
  content: ContentApi;
  images: Pick<ImagesApi, "get" | "put">;
}

/** Options of a pull (the flags of `ctr images pull`). */
export interface PullOptions extends ResolverOptions {
  /** Reuse a resolver (and its cached tokens) across pulls. */
  resolver?: Resolver;
  /** Platforms to fetch from an index; the host's platform by default. */
  platforms?: Platform[];
  /** Fetch every manifest of an index (`--all-platforms`). */
  allPlatforms?: boolean;
  /** Blobs downloaded at once; 0 = no limit (ctr's default). Default 3, dockerd's default. */
  maxConcurrentDownloads?: number;
  /** Receives the job states for a progress display. */
  tracker?: TransferTracker;
  /** Labels for the image record. */
  imageLabels?: Labels;
  signal?: AbortSignal;
}

/** What a pull did. */
export interface PullResult {
  image: Image;
  resolved: ResolvedReference;
  /** The image manifests fetched, with the platform each is for. */
  manifests: { descriptor: Descriptor; platform?: Platform }[];
  /** Bytes downloaded (0 when everything was present already). */
  bytesFetched: number;
}

/** Options of a push (the flags of `ctr images push`). */
export interface PushOptions extends ResolverOptions {
  resolver?: Resolver;
  /** Blobs uploaded at once; 0 = no limit (ctr's default). Default 3, dockerd's default. */
  maxConcurrentUploads?: number;
  /**
   * Push only this platform's manifest of an index, as the tagged root (`--platform`);
   * the whole image when unset.
   */
  platform?: Platform;
  /** Upload blobs in PATCH chunks of this size; monolithic PUTs when unset. */
  chunkSize?: number;
  tracker?: TransferTracker;
  signal?: AbortSignal;
}

/** What a push did. */
export interface PushResult {
  /** The normalized remote name pushed to. */
  name: string;
  descriptor: Descriptor;
  /** Blobs uploaded, mounted from another repository, and found already present. */
  uploaded: number;
  mounted: number;
  existing: number;
  bytesUploaded: number;
}
