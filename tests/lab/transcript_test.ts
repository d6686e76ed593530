// The transcript parser the lab tests rely on (tests/lab/support.ts): a lab prints
// `$ command` and then the command's output indented by two spaces; comments and section
// headers in between belong to no step. No root needed.

import { assertEquals } from "../helpers/assert.ts";
import { parseTranscript } from "./support.ts";

Deno.test("lab transcript: commands and their indented output, comments left out", () => {
  const transcript = [
    "",
    "=== A section ===",
    "$ ls overlay2",
    "  abc",
    "  l",
    "# a comment the teacher says",
    "$ touch x",
    "$ cat x",
    "    indented in the file",
    "lab done",
  ].join("\n");
  assertEquals(parseTranscript(transcript), [
    { command: "ls overlay2", output: "abc\nl" },
    { command: "touch x", output: "" },
    { command: "cat x", output: "  indented in the file" },
  ]);
});
