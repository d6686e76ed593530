// What this teaches: how a daemon picks "the" manifest for this host out of an index.
// An amd64 host can also run 386 images, an arm64 host arm/v8…v5 ones, so `only(host)`
// expands the host into an ordered list of compatible platforms and prefers earlier
// entries. Mirrors containerd/platforms' `compare.go` (`Only`, `Ordered`, `Any`, `All`)
// and `platforms.go` (`NewMatcher`).

import type { Platform } from "../images/types.ts";
import { hostArchitecture, hostOs } from "./host.ts";
import { normalizePlatform } from "./parse.ts";
import type { PlatformMatchComparer, PlatformMatcher } from "./types.ts";

/**
 * Matches platforms equal to `wanted` after normalization; the candidate's OS
 * features must be a subset of the wanted ones (`NewMatcher`).
 */
export function platformMatcher(wanted: Platform): PlatformMatcher {
  const target = normalizePlatform(wanted);
  const targetFeatures = new Set(target["os.features"] ?? []);
  return {
    match(candidate: Platform): boolean {
      const normalized = normalizePlatform(candidate);
      return normalized.os === target.os &&
        normalized.architecture === target.architecture &&
        (normalized.variant ?? "") === (target.variant ?? "") &&
        (normalized["os.features"] ?? []).every((feature) => targetFeatures.has(feature));
    },
  };
}

/** Matches any of `platforms`, preferring them in the order given (`Ordered`). */
export function orderedPlatforms(...platforms: Platform[]): PlatformMatchComparer {
  const matchers = platforms.map(platformMatcher);
  return {
    match: (candidate) => matchers.some((matcher) => matcher.match(candidate)),
    less(first, second) {
      for (const matcher of matchers) {
        const firstMatches = matcher.match(first);
        const secondMatches = matcher.match(second);
        if (firstMatches && !secondMatches) return true;
        if (firstMatches && secondMatches) {
          // Equally good: prefer the one that declares more OS features.
          return (first["os.features"]?.length ?? 0) > (second["os.features"]?.length ?? 0);
        }
        if (secondMatches) return false;
      }
      return false;
    },
  };
}

/** Matches any of `platforms` with no preference among them (`Any`). */
export function anyPlatform(...platforms: Platform[]): PlatformMatchComparer {
  const matchers = platforms.map(platformMatcher);
  const matches = (candidate: Platform) => matchers.some((matcher) => matcher.match(candidate));
  return {
    match: matches,
    less: (first, second) => matches(first) && !matches(second),
  };
}

/** Matches every platform, preferring none (`All`). */
export const allPlatforms: PlatformMatchComparer = {
  match: () => true,
  less: () => false,
};

/**
 * The platforms a host of `platform` can run, best first (`platformVector`):
 * amd64/vN → amd64/vN-1 … amd64 → 386; arm/vN → arm/vN-1 … arm/v5;
 * arm64/vX.Y → the arm64 variants it includes, then arm/v8 … arm/v5.
 */
export function compatiblePlatforms(platform: Platform): Platform[] {
  const base = normalizePlatform(platform);
  const at = (architecture: string, variant?: string): Platform => {
    const result: Platform = { ...base, architecture };
    delete result.variant;
    if (variant) result.variant = variant;
    return result;
  };
  const versionOf = (variant: string | undefined) => Number.parseInt((variant ?? "").slice(1), 10);
  switch (base.architecture) {
    case "amd64": {
      const vector = [base];
      const version = versionOf(base.variant);
      for (let lower = version - 1; lower >= 2; lower--) vector.push(at("amd64", `v${lower}`));
      if (version > 1) vector.push(at("amd64"));
      vector.push(at("386"));
      return vector;
    }
    case "arm": {
      const vector = [base];
      for (let lower = versionOf(base.variant) - 1; lower >= 5; lower--) {
        vector.push(at("arm", `v${lower}`));
      }
      return vector;
    }
    case "arm64": {
      // arm64/v8.x runs v8.x … v8.0; arm64/v9.x runs v9.x … v9.0, then v8.(x+5) … v8.0.
      const match = /^v(\d+)(?:\.(\d+))?$/.exec(base.variant ?? "v8");
      if (!match || (match[1] !== "8" && match[1] !== "9")) return [base];
      const minor = Number(match[2] ?? 0);
      const ranges: [number, number][] = match[1] === "9"
        ? [[9, minor], [8, Math.min(minor + 5, 9)]]
        : [[8, minor]];
      const vector: Platform[] = [];
      for (const [major, highestMinor] of ranges) {
        for (let lower = highestMinor; lower >= 0; lower--) {
          vector.push(at("arm64", lower === 0 ? `v${major}` : `v${major}.${lower}`));
        }
      }
      // Every arm64 CPU also runs 32-bit arm/v8 and below.
      return [...vector, ...compatiblePlatforms(at("arm", "v8"))];
    }
    default:
      return [base];
  }
}

/** Matches what a host of `platform` can run, best first (`platforms.Only`). */
export function onlyPlatform(platform: Platform): PlatformMatchComparer {
  return orderedPlatforms(...compatiblePlatforms(platform));
}

/** Matches exactly `platform`, no sub-platforms (`platforms.OnlyStrict`). */
export function onlyPlatformStrict(platform: Platform): PlatformMatchComparer {
  return orderedPlatforms(normalizePlatform(platform));
}

/** This host's platform, e.g. `{ os: "linux", architecture: "amd64" }` (`DefaultSpec`). */
export function defaultPlatform(): Platform {
  const { architecture, variant } = hostArchitecture();
  const platform: Platform = { os: hostOs(), architecture };
  if (variant) platform.variant = variant;
  return platform;
}

/** What this host can run, best first (`platforms.Default()`). */
export function defaultPlatformMatcher(): PlatformMatchComparer {
  return onlyPlatform(defaultPlatform());
}

/** Sorts candidates best first under `comparer`, keeping the input order among equals. */
export function sortByPreference<T>(
  items: T[],
  platformOf: (item: T) => Platform | undefined,
  comparer: PlatformMatchComparer,
): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => {
      const first = platformOf(a.item);
      const second = platformOf(b.item);
      // Entries without a platform sort last, as in containerd's images.Manifest.
      if (!first || !second) return first ? -1 : second ? 1 : a.index - b.index;
      if (comparer.less(first, second)) return -1;
      if (comparer.less(second, first)) return 1;
      return a.index - b.index;
    })
    .map(({ item }) => item);
}
