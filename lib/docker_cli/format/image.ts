// What this teaches: why one image can take several lines in `docker images`. The
// daemon lists images by ID with all their tags ("RepoTags"); the CLI splits each tag
// into REPOSITORY and TAG and prints one row per tag, and an image with no tags at all
// ("dangling") shows as <none> <none>. Sizes use three significant digits and decimal
// units ("4.26MB"); CREATED is computed on the client ("3 weeks ago").
// Mirrors docker/cli's cli/command/formatter/image.go.

import { familiarName, parseNormalizedNamed } from "../../reference/mod.ts";
import type { ImageSummary } from "../client/types.ts";
import { truncateId } from "./container.ts";
import { FormatSubject, headerContext, RAW_FORMAT_KEY, TABLE_FORMAT_KEY } from "./formatter.ts";
import { goTimeString } from "./go_time.ts";
import { humanSince, humanSize, humanSizeWithPrecision } from "./units.ts";

const DEFAULT_IMAGE_TABLE_FORMAT =
  "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
const DEFAULT_IMAGE_TABLE_FORMAT_WITH_DIGEST =
  "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";

/** Picks the template `docker images` runs for a --format value, -q and --digests. */
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === TABLE_FORMAT_KEY) {
    if (quiet) return "{{.ID}}";
    return digest ? DEFAULT_IMAGE_TABLE_FORMAT_WITH_DIGEST : DEFAULT_IMAGE_TABLE_FORMAT;
  }
  if (source === RAW_FORMAT_KEY) {
    if (quiet) return "image_id: {{.ID}}";
    return "repository: {{ .Repository }}\ntag: {{.Tag}}\n" +
      (digest ? "digest: {{.Digest}}\n" : "") +
      "image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n";
  }
  if (source.startsWith(TABLE_FORMAT_KEY) && digest && !source.includes("{{.Digest}}")) {
    return source + "\t{{.Digest}}";
  }
  return source;
}

/** Column titles for `docker images` tables. */
export const IMAGE_HEADER = headerContext({
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  Tag: "TAG",
  Digest: "DIGEST",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  Size: "SIZE",
  Containers: "CONTAINERS",
  VirtualSize: "SIZE",
  SharedSize: "SHARED SIZE",
  UniqueSize: "UNIQUE SIZE",
});

/** An image with neither tags nor digests (or only the <none> placeholders). */
export function isDangling(image: ImageSummary): boolean {
  const tags = image.RepoTags ?? [];
  const digests = image.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === "<none>:<none>" && digests.length === 1 &&
    digests[0] === "<none>@<none>";
}

/** One row of `docker images`: an image under one repository:tag. */
export class ImageContext extends FormatSubject {
  readonly jsonFields = [
    "Containers",
    "CreatedAt",
    "CreatedSince",
    "Digest",
    "ID",
    "Repository",
    "SharedSize",
    "Size",
    "Tag",
    "UniqueSize",
    "VirtualSize",
  ] as const;

  constructor(
    readonly image: ImageSummary,
    readonly trunc: boolean,
    readonly repository: string,
    readonly tag: string,
    readonly digest: string,
  ) {
    super("*formatter.imageContext");
  }

  ID(): string {
    return this.trunc ? truncateId(this.image.Id) : this.image.Id;
  }
  Repository(): string {
    return this.repository;
  }
  Tag(): string {
    return this.tag;
  }
  Digest(): string {
    return this.digest;
  }
  CreatedSince(): string {
    return humanSince(this.image.Created);
  }
  CreatedAt(): string {
    return goTimeString(this.image.Created);
  }
  Size(): string {
    return humanSizeWithPrecision(this.image.Size, 3);
  }
  Containers(): string {
    const count = this.image.Containers ?? -1;
    return count === -1 ? "N/A" : String(count);
  }
  VirtualSize(): string {
    return humanSize(this.image.Size);
  }
  SharedSize(): string {
    const shared = this.image.SharedSize ?? -1;
    return shared === -1 ? "N/A" : humanSize(shared);
  }
  UniqueSize(): string {
    const shared = this.image.SharedSize ?? -1;
    if (this.image.Size === -1 || shared === -1) return "N/A";
    return humanSize(this.image.Size - shared);
  }
}

/** Expands the daemon's image list into rows, one per repository:tag (imageFormat). */
export function imageRows(
  images: ImageSummary[],
  trunc: boolean,
  showDigests: boolean,
  format: string,
): ImageContext[] {
  const needDigest = showDigests || format.includes("{{.Digest}}");
  const rows: ImageContext[] = [];
  for (const image of images) {
    if (isDangling(image)) {
      rows.push(new ImageContext(image, trunc, "<none>", "<none>", "<none>"));
      continue;
    }
    const tagsByRepository = new Map<string, string[]>();
    const digestsByRepository = new Map<string, string[]>();
    for (const text of image.RepoTags ?? []) {
      try {
        const reference = parseNormalizedNamed(text);
        if (reference.tag === undefined) continue;
        const name = familiarName(reference);
        tagsByRepository.set(name, [...(tagsByRepository.get(name) ?? []), reference.tag]);
      } catch { /* skip what does not parse, as docker does */ }
    }
    for (const text of image.RepoDigests ?? []) {
      try {
        const reference = parseNormalizedNamed(text);
        if (reference.digest === undefined) continue;
        const name = familiarName(reference);
        digestsByRepository.set(name, [...(digestsByRepository.get(name) ?? []), reference.digest]);
      } catch { /* skip */ }
    }
    for (const [repository, tags] of tagsByRepository) {
      const digests = needDigest ? digestsByRepository.get(repository) ?? [] : [];
      digestsByRepository.delete(repository);
      for (const tag of tags) {
        if (digests.length === 0) {
          rows.push(new ImageContext(image, trunc, repository, tag, "<none>"));
        }
        for (const digest of digests) {
          rows.push(new ImageContext(image, trunc, repository, tag, digest));
        }
      }
    }
    for (const [repository, digests] of digestsByRepository) {
      if (showDigests) {
        for (const digest of digests) {
          rows.push(new ImageContext(image, trunc, repository, "<none>", digest));
        }
      } else {
        rows.push(new ImageContext(image, trunc, repository, "<none>", ""));
      }
    }
  }
  return rows;
}
