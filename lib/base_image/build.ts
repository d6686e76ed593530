// What this teaches: an image is three JSON-and-bytes blobs pointing at each other by
// digest: the layer (a gzip tar), the config (run settings, the layer's diffID and the
// history that `docker history` shows) and the manifest (the config and the layers).
// Building them by hand, with every timestamp fixed, gives the same digests on every
// run: the base image of an offline machine can be rebuilt and still match.
// Mirrors the config the official busybox image carries (`ADD file:… in /`, then
// `CMD ["sh"]`) and the OCI image spec's config and manifest.

import type { Descriptor, ImageConfig, ImageManifest, Platform } from "../images/types.ts";
import { MediaTypes } from "../images/media_types.ts";
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  type LayoutBlob,
  layoutIndex,
  ociLayoutRecords,
} from "../image_archive/oci_layout.ts";
import { writeTar } from "../image_archive/tar_stream.ts";
import { blobPath } from "../image_archive/entry_names.ts";
import { familiarString, parseDockerRef } from "../reference/normalize.ts";
import { DEFAULT_BUSYBOX_PATH, listApplets, readStaticBusybox } from "./busybox.ts";
import { buildLayer } from "./layer.ts";
import { sha256Digest } from "../image_archive/digest.ts";
import { busyboxRootfs } from "./rootfs.ts";
import type { BaseImage, BaseImageOptions } from "./types.ts";
import { defaultPlatform } from "../platforms/compare.ts";

/** The name set-up imports the image under. */
export const BASE_IMAGE_NAME = "docker.io/library/busybox:latest";

/**
 * The fixed creation time of the base image. Any fixed value works; this one says
 * "not a real build date" to anyone reading `docker history`.
 */
export const BASE_IMAGE_CREATED = "2024-01-01T00:00:00Z";

/** The PATH every official Docker Hub image sets. */
export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const encoder = new TextEncoder();

function jsonBlob(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** The tag part of a full name (`docker.io/library/busybox:latest` → `latest`). */
function tagOf(name: string): string {
  const lastPart = name.slice(name.lastIndexOf("/") + 1);
  const colon = lastPart.indexOf(":");
  return colon === -1 ? "latest" : lastPart.slice(colon + 1);
}

/** Builds the busybox image from the host's static busybox; the same inputs give the same digests. */
export async function buildBaseImage(options: BaseImageOptions = {}): Promise<BaseImage> {
  const busyboxPath = options.busyboxPath ?? DEFAULT_BUSYBOX_PATH;
  const name = options.imageName ?? BASE_IMAGE_NAME;
  const created = options.created ?? BASE_IMAGE_CREATED;
  const platform: Platform = options.platform ?? defaultPlatform();

  const busybox = await readStaticBusybox(busyboxPath);
  const applets = await listApplets(busyboxPath);
  const layer = await buildLayer(busyboxRootfs(busybox, applets), new Date(created));

  const config: ImageConfig = {
    created,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: { Env: [DEFAULT_PATH_ENV], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
    history: [
      {
        created,
        // Docker's legacy builder names an ADDed file by the hash of its content.
        created_by: `/bin/sh -c #(nop) ADD file:${layer.diffId.slice("sha256:".length)} in / `,
      },
      { created, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
    ],
  };
  const configBytes = jsonBlob(config);
  const configDescriptor: Descriptor = {
    mediaType: MediaTypes.ociConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.byteLength,
  };
  const layerDescriptor: Descriptor = {
    mediaType: MediaTypes.ociLayerGzip,
    digest: layer.digest,
    size: layer.blob.byteLength,
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: configDescriptor,
    layers: [layerDescriptor],
  };
  const manifestBytes = jsonBlob(manifest);
  const manifestDescriptor: Descriptor = {
    mediaType: MediaTypes.ociManifest,
    digest: sha256Digest(manifestBytes),
    size: manifestBytes.byteLength,
    annotations: { [ANNOTATION_IMAGE_NAME]: name, [ANNOTATION_REF_NAME]: tagOf(name) },
    platform,
  };
  return {
    name,
    manifest: manifestDescriptor,
    config: configDescriptor,
    layer: layerDescriptor,
    diffId: layer.diffId,
    blobs: new Map([
      [layer.digest, layer.blob],
      [configDescriptor.digest, configBytes],
      [manifestDescriptor.digest, manifestBytes],
    ]),
  };
}

/** The image as an OCI image-layout tar stream (what `mini-ctr images import` reads). */
export function baseImageArchive(image: BaseImage): ReadableStream<Uint8Array> {
  const blobs: LayoutBlob[] = [...image.blobs].map(([digest, bytes]) => ({
    digest,
    size: bytes.byteLength,
    body: () => bytes,
  }));
  // manifest.json beside the OCI layout lets `docker load` read the same archive.
  const dockerManifest = [{
    Config: blobPath(image.config.digest),
    RepoTags: [familiarString(parseDockerRef(image.name))],
    Layers: [blobPath(image.layer.digest)],
  }];
  return writeTar(ociLayoutRecords(layoutIndex([image.manifest]), blobs, dockerManifest));
}

/** Builds the image and writes its OCI archive to `path`; returns the image. */
export async function writeBaseImageArchive(
  path: string,
  options: BaseImageOptions = {},
): Promise<BaseImage> {
  const image = await buildBaseImage(options);
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  await baseImageArchive(image).pipeTo(file.writable);
  return image;
}
