// What this teaches: how `.dockerignore` is read and matched, once for both ends of a
// build. The client uses it to decide what the context tar leaves out; the daemon uses
// it again on what arrived (a context from `curl`, a tar on stdin) so COPY never sees
// an excluded file. Patterns are Go filepath.Match globs plus `**`, relative to the
// context root, and a later `!pattern` brings back what an earlier one excluded.
// Mirrors moby's patternmatcher/ignorefile (ReadAll) and patternmatcher (Matches,
// Exclusions); the matching itself is the npm package @balena/dockerignore.

import { posix } from "node:path";
import dockerignore, { type Ignore } from "@balena/dockerignore";

// The package is CommonJS: its default export is the factory, whatever its typings say.
const createMatcher = dockerignore as unknown as (options?: { ignorecase?: boolean }) => Ignore;

/**
 * Reads `.dockerignore` text into patterns the way moby's ignorefile.ReadAll does: one
 * pattern a line, `#` comments and blank lines skipped, surrounding spaces trimmed, a
 * leading `/` dropped (patterns are always relative to the context root), and `!` kept
 * as the mark of an exception.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const rawLine of text.split("\n")) {
    let line = rawLine.replace(/\r$/, "");
    if (line.startsWith("#")) continue;
    line = line.trim();
    if (line === "") continue;
    let exception = false;
    if (line.startsWith("!")) {
      exception = true;
      line = line.slice(1).trim();
      if (line === "") continue;
    }
    line = cleanPattern(line);
    if (line === "") continue;
    patterns.push(exception ? `!${line}` : line);
  }
  return patterns;
}

/** Go's filepath.Clean for a pattern, then the leading "/" removed ("/a/../b/" → "b"). */
function cleanPattern(pattern: string): string {
  const cleaned = posix.normalize(pattern || ".").replace(/^\/+|\/+$/g, "");
  return cleaned === "." ? "" : cleaned;
}

/** Decides, path by path, what the context tar leaves out. */
export class ExcludeMatcher {
  readonly #matcher: Ignore;
  readonly #exceptions: string[];

  constructor(readonly patterns: string[]) {
    // Docker matches case-sensitively; the package defaults to the opposite.
    this.#matcher = createMatcher({ ignorecase: false }).add(patterns);
    this.#exceptions = patterns.filter((pattern) => pattern.startsWith("!"))
      .map((pattern) => pattern.slice(1));
  }

  /** True when the slash-separated relative `path` (or a parent of it) is excluded. */
  excludes(path: string): boolean {
    return this.patterns.length > 0 && this.#matcher.ignores(path);
  }

  /**
   * Whether an excluded directory must still be walked: only when an exception
   * (`!dir/keep`) could bring back something below it.
   */
  mayReinclude(directory: string): boolean {
    const prefix = `${directory}/`;
    return this.#exceptions.some((exception) => `${exception}/`.startsWith(prefix));
  }
}
