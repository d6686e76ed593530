// What this teaches: every blob of an image is typed by a media type, and the
// Docker and OCI formats name the same things differently. Mirrors the OCI image
// spec's `specs-go/v1/mediatype.go` and containerd's `core/images/mediatypes.go`.

export const MediaTypes = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  ociLayerNondistributableGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

/** True for an index or a Docker manifest list. */
export function isIndexType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}

/** True for an image manifest, OCI or Docker schema 2. */
export function isManifestType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest;
}

/** True for an image config. */
export function isConfigType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociConfig || mediaType === MediaTypes.dockerConfig;
}

/** True for a layer, in any compression. */
export function isLayerType(mediaType: string): boolean {
  return mediaType.startsWith("application/vnd.oci.image.layer.") ||
    mediaType.startsWith("application/vnd.docker.image.rootfs.");
}

/** In-toto attestations, which BuildKit stores as "layers" of attestation manifests. */
export const ATTESTATION_MEDIA_TYPES: readonly string[] = ["application/vnd.in-toto+json"];

/** True for attestation blobs (containerd's `IsAttestationType`). */
export function isAttestationType(mediaType: string): boolean {
  return ATTESTATION_MEDIA_TYPES.includes(mediaType);
}

/** True for the types an image record may point at: an index or a manifest. */
export function isImageTargetType(mediaType: string): boolean {
  return isIndexType(mediaType) || isManifestType(mediaType);
}

/** True when `mediaType` is one mini knows how to handle. */
export function isKnownMediaType(mediaType: string): boolean {
  return isImageTargetType(mediaType) || isConfigType(mediaType) || isLayerType(mediaType) ||
    isAttestationType(mediaType);
}
