// mini's public library API: one namespace per component, in the order a request
// travels down the stack. Programs in cmd/ and the tests import the components
// directly; this module is for code that embeds mini (and a table of contents).
//
//   import { client, content } from "./mod.ts";
//   const containerd = new client.ContainerdClient("/run/mini-containerd/mini-containerd.sock");

// The wire: error kinds, service names, the Unix-socket router and transport.
export * as api from "./lib/api/mod.ts";

// Clients and command lines.
export * as client from "./lib/client/mod.ts";
export * as ctr from "./lib/ctr/mod.ts";
export * as dockerCli from "./lib/docker_cli/mod.ts";

// Daemons.
export * as dockerd from "./lib/dockerd/mod.ts";
export * as builder from "./lib/builder/mod.ts";
export * as containerd from "./lib/containerd/mod.ts";

// mini-containerd's stores and services.
export * as metadata from "./lib/metadata/mod.ts";
export * as content from "./lib/content/mod.ts";
export * as leases from "./lib/leases/mod.ts";
export * as gc from "./lib/gc/mod.ts";
export * as images from "./lib/images/mod.ts";
export * as reference from "./lib/reference/mod.ts";
export * as platforms from "./lib/platforms/mod.ts";
export * as imageArchive from "./lib/image_archive/mod.ts";
export * as baseImage from "./lib/base_image/mod.ts";
export * as registry from "./lib/registry/mod.ts";
export * as archive from "./lib/archive/mod.ts";
export * as snapshots from "./lib/snapshots/mod.ts";
export * as mount from "./lib/mount/mod.ts";
export * as diff from "./lib/diff/mod.ts";
export * as unpack from "./lib/unpack/mod.ts";
export * as containers from "./lib/containers/mod.ts";
export * as tasks from "./lib/tasks/mod.ts";
export * as events from "./lib/events/mod.ts";
export * as ociSpec from "./lib/oci_spec/mod.ts";

// One process per container, and the runtime below it.
export * as shim from "./lib/shim/mod.ts";
export * as runtime from "./lib/runtime/mod.ts";
export * as linux from "./lib/linux/mod.ts";

// Networking.
export * as network from "./lib/network/mod.ts";
export * as cni from "./lib/cni/mod.ts";

// Cross-cutting: tracing a request through every process; go-units formatting.
export * as trace from "./lib/trace/mod.ts";
export * as units from "./lib/units/mod.ts";
