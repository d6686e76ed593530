// What this teaches: a container daemon tells the world what happened through one
// stream of events, each an envelope with a time, a namespace, a topic
// (`/tasks/exit`) and a payload. mini-dockerd learns that a container stopped by
// subscribing to `/tasks/exit`, exactly as dockerd does with containerd.
// Mirrors containerd's `core/events/events.go` (Envelope) and the payloads of
// `api/events/{task,container}.proto` (field names in camelCase here).

/** One event as it travels: who, when, what. */
export interface Envelope {
  /** RFC 3339 time the event was published. */
  timestamp: string;
  namespace: string;
  /** A path-like name: `/tasks/exit`, `/containers/create`. */
  topic: string;
  event: Record<string, unknown>;
}

/** The topics mini-containerd and its shims publish (containerd's runtime.Task* topics). */
export const Topics = {
  taskCreate: "/tasks/create",
  taskStart: "/tasks/start",
  taskExit: "/tasks/exit",
  taskDelete: "/tasks/delete",
  taskOOM: "/tasks/oom",
  taskExecAdded: "/tasks/exec-added",
  taskExecStarted: "/tasks/exec-started",
  taskPaused: "/tasks/paused",
  taskResumed: "/tasks/resumed",
  containerCreate: "/containers/create",
  containerUpdate: "/containers/update",
  containerDelete: "/containers/delete",
} as const;

/** `/tasks/create`: the runtime created the container; its init waits for Start. */
export interface TaskCreateEvent {
  containerId: string;
  bundle: string;
  pid: number;
}

/** `/tasks/start` */
export interface TaskStartEvent {
  containerId: string;
  pid: number;
}

/** `/tasks/exit`: a process ended; `id` is the exec ID, or the container ID for the init. */
export interface TaskExitEvent {
  containerId: string;
  id: string;
  pid: number;
  /** 0-255 for an exit, 128+N for death by signal N (137 = SIGKILL, also an OOM kill). */
  exitStatus: number;
  exitedAt: string;
}

/** `/tasks/delete` */
export interface TaskDeleteEvent {
  containerId: string;
  id: string;
  pid: number;
  exitStatus: number;
  exitedAt: string;
}

/** `/tasks/oom`: the kernel's OOM killer hit a process of the container's cgroup. */
export interface TaskOomEvent {
  containerId: string;
}

/** `/tasks/exec-added` and `/tasks/exec-started` */
export interface TaskExecEvent {
  containerId: string;
  execId: string;
  pid?: number;
}

/** `/containers/create`, `/containers/update`, `/containers/delete` */
export interface ContainerEvent {
  id: string;
  image?: string;
  runtime?: { name: string };
}

/** Anything that accepts events: the daemon's exchange, or a shim's publisher. */
export interface EventPublisher {
  publish(namespace: string, topic: string, event: object): void;
}
