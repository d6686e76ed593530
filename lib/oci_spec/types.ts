// What this teaches: an OCI runtime spec (a bundle's config.json) is not written by
// hand: the client builds it from a default and a chain of small "spec options", each
// changing one aspect (the image's entrypoint and env, a memory limit, the host's
// network). Mirrors containerd's `pkg/oci/spec.go` (type SpecOpts).
//
// The spec's own types are the runtime's contract and live with mini-runc in
// lib/runtime/types.ts; they are re-exported here so spec builders need one import.

import type { Spec } from "../runtime/types.ts";

export type {
  Capabilities,
  Linux,
  LinuxNamespace,
  LinuxResources,
  Mount as SpecMount,
  Process,
  Rlimit,
  Spec,
  User,
} from "../runtime/types.ts";

/** One change to a spec (containerd's `oci.SpecOpts`); options are applied in order. */
export type SpecOption = (spec: Spec) => void;

/** Where a spec is being generated for: the containerd namespace and the container ID. */
export interface SpecTarget {
  namespace: string;
  id: string;
}
