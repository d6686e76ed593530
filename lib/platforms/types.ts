// What this teaches: picking one manifest out of a multi-platform index is two
// questions: "can this host run it?" (match) and "which of the runnable ones is best?"
// (less). Mirrors the `Matcher` and `MatchComparer` interfaces of containerd/platforms.

import type { Platform } from "../images/types.ts";

export type { Platform };

/** Answers whether a platform is acceptable. */
export interface PlatformMatcher {
  match(platform: Platform): boolean;
}

/** A matcher that also orders acceptable platforms, best first. */
export interface PlatformMatchComparer extends PlatformMatcher {
  /** True when `first` should be preferred over `second`. */
  less(first: Platform, second: Platform): boolean;
}
