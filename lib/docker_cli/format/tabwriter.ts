// What this teaches: how docker lines up its tables. Rows are written as tab-separated
// cells; an elastic tabwriter then pads every cell of a column to the widest cell plus
// `padding` (3 spaces for docker's tables), never narrower than `minwidth` (10). The
// last cell of a line is never padded, and a column only spans the consecutive lines
// that have it (a "column block"), which is why a line without tabs starts afresh.
// Mirrors Go's text/tabwriter as vendored by docker/cli in
// cli/command/formatter/tabwriter/tabwriter.go (cell widths in terminal columns).

interface Cell {
  text: string;
  /** Display width in terminal columns (wide East Asian characters count 2). */
  width: number;
  /** True when the cell ended with a tab (as opposed to a line end). */
  tabTerminated: boolean;
}

/** Terminal columns taken by one code point (0 for combining marks, 2 for wide ones). */
export function codePointWidth(codePoint: number): number {
  if (codePoint === 0) return 0;
  if (codePoint < 32 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if (
    (codePoint >= 0x0300 && codePoint <= 0x036f) || (codePoint >= 0x200b && codePoint <= 0x200f) ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f)
  ) return 0;
  const wide = (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0x303e) || (codePoint >= 0x3041 && codePoint <= 0x33ff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) || (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0xa000 && codePoint <= 0xa4cf) || (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) || (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) || (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Terminal columns taken by a string. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) width += codePointWidth(character.codePointAt(0)!);
  return width;
}

/** An elastic tabwriter: write tab-separated text, then `flush()` to get the aligned result. */
export class TabWriter {
  #lines: Cell[][] = [[]];
  #pending = "";
  #widths: number[] = [];
  #output: string[] = [];

  constructor(
    readonly minWidth: number,
    readonly padding: number,
    readonly padCharacter = " ",
  ) {}

  /** Adds text; tabs end cells, newlines end lines. */
  write(text: string): void {
    let start = 0;
    for (let index = 0; index < text.length; index++) {
      const character = text[index];
      if (character !== "\t" && character !== "\v" && character !== "\n" && character !== "\f") {
        continue;
      }
      this.#pending += text.slice(start, index);
      start = index + 1;
      const cellsInLine = this.#terminateCell(character === "\t");
      if (character === "\n" || character === "\f") {
        this.#lines.push([]);
        // A line with a single cell cannot be part of a column: everything so far can be laid out.
        if (character === "\f" || cellsInLine === 1) this.#formatAll();
      }
    }
    this.#pending += text.slice(start);
  }

  /** Lays out everything written so far and returns it. */
  flush(): string {
    if (this.#pending.length > 0) this.#terminateCell(false);
    this.#formatAll();
    const result = this.#output.join("");
    this.#output = [];
    return result;
  }

  #terminateCell(tabTerminated: boolean): number {
    const line = this.#lines[this.#lines.length - 1];
    line.push({ text: this.#pending, width: displayWidth(this.#pending), tabTerminated });
    this.#pending = "";
    return line.length;
  }

  #formatAll(): void {
    this.#format(0, this.#lines.length);
    this.#lines = [[]];
    this.#widths = [];
  }

  /** Lays out lines [first, end): finds the blocks of lines sharing the next column. */
  #format(first: number, end: number): void {
    const column = this.#widths.length;
    let blockStart = first;
    for (let line = first; line < end; line++) {
      if (column >= this.#lines[line].length - 1) continue;
      // This line has a cell in `column`: it opens a block that runs while lines have one.
      this.#writeLines(blockStart, line);
      blockStart = line;
      let width = this.minWidth;
      for (; line < end; line++) {
        const cells = this.#lines[line];
        if (column >= cells.length - 1) break;
        width = Math.max(width, cells[column].width + this.padding);
      }
      this.#widths.push(width);
      this.#format(blockStart, line);
      this.#widths.pop();
      blockStart = line;
    }
    this.#writeLines(blockStart, end);
  }

  #writeLines(first: number, end: number): void {
    for (let index = first; index < end; index++) {
      const cells = this.#lines[index];
      cells.forEach((cell, column) => {
        this.#output.push(cell.text);
        if (column < this.#widths.length) {
          this.#output.push(this.padCharacter.repeat(this.#widths[column] - cell.width));
        }
      });
      if (index + 1 < this.#lines.length) this.#output.push("\n");
    }
  }
}

/** Aligns tab-separated text in one go (minwidth, padding as docker's tables use them). */
export function alignTable(text: string, minWidth = 10, padding = 3): string {
  const writer = new TabWriter(minWidth, padding);
  writer.write(text);
  return writer.flush();
}
