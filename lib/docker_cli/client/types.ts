// What this teaches: the shapes of the Docker Engine API (v1.41) objects the CLI reads.
// Only the fields mini-docker uses are typed; everything else passes through untouched
// (inspect prints the daemon's JSON as it came). Field names are the API's own
// PascalCase, exactly as on the wire.
// Mirrors moby's api/types (container.Summary, image.Summary, network.Summary, ...).

/** A published or exposed port in `GET /containers/json`. */
export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** A mount in `GET /containers/json`. */
export interface MountSummary {
  Name?: string;
  Source?: string;
  Destination?: string;
  Driver?: string;
}

/** One entry of `GET /containers/json`. */
export interface ContainerSummary {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created: number;
  Ports?: PortSummary[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  Mounts?: MountSummary[] | null;
}

/** One entry of `GET /images/json`. */
export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  SharedSize?: number;
  VirtualSize?: number;
  Containers?: number;
  Labels?: Record<string, string> | null;
}

/** One entry of `GET /images/{name}/history`. */
export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment: string;
}

/** One entry of `GET /networks`. */
export interface NetworkSummary {
  Name: string;
  Id: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

/** The part of `GET /containers/{id}/json` the CLI itself reads. */
export interface ContainerInspect {
  Id: string;
  Name?: string;
  Config?: {
    Tty?: boolean;
    OpenStdin?: boolean;
    [key: string]: unknown;
  };
  HostConfig?: { AutoRemove?: boolean; [key: string]: unknown };
  State?: { Running?: boolean; Status?: string; [key: string]: unknown };
  NetworkSettings?: {
    Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `GET /exec/{id}/json`. */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  [key: string]: unknown;
}

/** The body `POST /containers/{id}/wait` ends with. */
export interface WaitResponse {
  StatusCode: number;
  Error?: { Message: string } | null;
}

/** `GET /system/df`. */
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: { Name: string; UsageData?: { Size: number; RefCount: number } | null }[] | null;
  BuildCache?: { ID: string; Size: number; InUse: boolean; Shared: boolean }[] | null;
}

/** One line of a pull/push/load progress stream (NDJSON). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: {
    current?: number;
    total?: number;
    units?: string;
    start?: number;
    hidecounts?: boolean;
  };
  stream?: string;
  errorDetail?: { code?: number; message: string };
  error?: string;
  aux?: unknown;
  time?: number;
  from?: string;
}
