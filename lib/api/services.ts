// What this teaches: the API contract of mini-containerd is its list of services.
// Each name is the route prefix of one service, exactly containerd's fully qualified
// gRPC service name, so `/containerd.services.content.v1.Content/Info` maps one to
// one onto containerd's `api/services/content/v1/content.proto`. The names live
// here, apart from the implementations, so a client can import them without
// loading the daemon's code (containerd keeps its .proto contracts apart the same way).

export const CONTAINERS_SERVICE = "containerd.services.containers.v1.Containers";
export const CONTENT_SERVICE = "containerd.services.content.v1.Content";
export const DIFF_SERVICE = "containerd.services.diff.v1.Diff";
export const EVENTS_SERVICE = "containerd.services.events.v1.Events";
export const IMAGES_SERVICE = "containerd.services.images.v1.Images";
export const LEASES_SERVICE = "containerd.services.leases.v1.Leases";
export const NAMESPACES_SERVICE = "containerd.services.namespaces.v1.Namespaces";
export const SNAPSHOTS_SERVICE = "containerd.services.snapshots.v1.Snapshots";
export const TASKS_SERVICE = "containerd.services.tasks.v1.Tasks";
export const VERSION_SERVICE = "containerd.services.version.v1.Version";
export const GC_SERVICE = "mini.services.gc.v1.GarbageCollector";

/** The header that carries the namespace, exactly as containerd's gRPC metadata. */
export const NAMESPACE_HEADER = "containerd-namespace";
