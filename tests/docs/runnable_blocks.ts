// What this teaches: how a course keeps its commands honest. A fenced block in
// docs/course/*.md whose info string is `sh runnable` (optionally followed by the
// fixture it needs: `containerd` or `dockerd`) is extracted here, with the chapter and
// the line it starts on, so tests/docs/runnable_blocks_test.ts can execute it and fail
// with `docs/course/<chapter>.md:<line>` when the text drifts from the code.
// Blocks inside list items (indented fences) are extracted with the indentation removed.

/** The environment a runnable block needs besides a shell and the mini commands. */
export type BlockFixture = "none" | "containerd" | "dockerd";

/** One runnable block of a chapter. */
export interface RunnableBlock {
  /** The chapter's file name, e.g. 03-union-filesystems-and-snapshots.md. */
  chapter: string;
  /** 1-based line of the opening fence. */
  line: number;
  fixture: BlockFixture;
  /** The shell text, indentation of the fence removed. */
  script: string;
}

const FIXTURES: BlockFixture[] = ["none", "containerd", "dockerd"];

/**
 * The runnable blocks of one Markdown text. Throws on a marked block with an unknown
 * fixture or without a closing fence, naming the line, so a typo never silently
 * turns a block into prose.
 */
export function extractRunnableBlocks(chapter: string, markdown: string): RunnableBlock[] {
  const lines = markdown.split("\n");
  const blocks: RunnableBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const opening = lines[index].match(/^(\s*)(`{3,})(.*)$/);
    if (!opening) continue;
    const [, indent, fence, info] = opening;
    const closing = lines.findIndex((line, at) =>
      at > index && /^`{3,}$/.test(line.trim()) && line.trim().length >= fence.length
    );
    const words = info.trim().split(/\s+/);
    const marked = words[0] === "sh" && words[1] === "runnable";
    if (marked) {
      if (closing === -1) throw new Error(`${chapter}:${index + 1}: runnable block is not closed`);
      const fixture = (words[2] ?? "none") as BlockFixture;
      if (!FIXTURES.includes(fixture) || words.length > 3) {
        throw new Error(
          `${chapter}:${index + 1}: unknown runnable fixture "${words.slice(2).join(" ")}" ` +
            `(use one of: ${FIXTURES.slice(1).join(", ")}, or none)`,
        );
      }
      const body = lines.slice(index + 1, closing).map((line) =>
        line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()
      );
      blocks.push({ chapter, line: index + 1, fixture, script: body.join("\n") + "\n" });
    }
    if (closing !== -1) index = closing; // skip the block's body either way
  }
  return blocks;
}
