// What this teaches: the shape of a Docker image config, the JSON whose digest is the
// image ID, and the Engine API's views of images (the `docker images` summary and the
// `docker image inspect` document).
// Mirrors moby's image/image.go (V1Image, Image, History, RootFS) and
// api/types/types.go (ImageSummary, ImageInspect).

/** The container settings an image carries (Config / ContainerConfig). */
export interface DockerContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: unknown;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[] | null;
}

/** One `history` entry of an image config. */
export interface DockerHistory {
  created?: string;
  author?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** An image config as Docker writes it (OCI image config plus Docker's extra fields). */
export interface DockerImageConfig {
  architecture?: string;
  variant?: string;
  os?: string;
  "os.version"?: string;
  created?: string;
  author?: string;
  comment?: string;
  config?: DockerContainerConfig;
  container?: string;
  container_config?: DockerContainerConfig;
  docker_version?: string;
  parent?: string;
  history?: DockerHistory[];
  rootfs: { type: string; diff_ids: string[] };
}

/** One row of `GET /images/json`. */
export interface ImageSummary {
  Containers: number;
  Created: number;
  Id: string;
  Labels: Record<string, string> | null;
  ParentId: string;
  RepoDigests: string[] | null;
  RepoTags: string[] | null;
  SharedSize: number;
  Size: number;
  VirtualSize: number;
}

/** One row of `GET /images/{name}/history`. */
export interface HistoryItem {
  Comment: string;
  Created: number;
  CreatedBy: string;
  Id: string;
  Size: number;
  Tags: string[] | null;
}

/** One entry of a `DELETE /images/{name}` answer. */
export type ImageDeleteItem = { Untagged: string } | { Deleted: string };
