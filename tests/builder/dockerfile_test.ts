// What this teaches: unit tests of the Dockerfile side of the builder: parsing
// (continuations, the escape directive, comments, JSON vs shell form, heredocs, stages),
// the errors with their line numbers, variable expansion, the Go-formatted history texts
// and the query string of POST /build. No daemon needed.
// Mirrors BuildKit's frontend/dockerfile/parser/parser_test.go and shell/lex_test.go.

import { assert, assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import { parseDockerfile } from "../../lib/builder/dockerfile.ts";
import {
  expandVariables,
  expandWords,
  parseKeyValuePairs,
  scopeOf,
} from "../../lib/builder/shell_words.ts";
import { parseSignal } from "../../lib/linux/signals.ts";
import {
  formatGoDuration,
  goQuotedList,
  goQuotedRune,
  parseGoDuration,
  parsePortSpecs,
} from "../../lib/builder/history_text.ts";
import { buildOptionsFromQuery } from "../../lib/builder/options.ts";
import { DockerfileParseError } from "../../lib/builder/types.ts";

Deno.test("parse: continuations, comments, JSON and shell form, stages and meta ARGs", () => {
  const parsed = parseDockerfile(
    [
      "# a comment",
      "ARG BASE=busybox",
      "FROM ${BASE} AS build",
      "RUN echo a \\",
      "# a comment inside the continuation",
      "  b",
      'CMD ["cat", "/x"]',
      "COPY --from=build --chown=1:2 a b /c/",
      "",
      "from scratch",
      "ENTRYPOINT echo hi",
    ].join("\n"),
  );
  assertEquals(parsed.escapeCharacter, "\\");
  assertEquals(parsed.metaArgs.map((arg) => arg.arguments), ["BASE=busybox"]);
  assertEquals(parsed.stages.length, 2);
  assertEquals(parsed.stages[0].name, "build");
  const [run, cmd, copy] = parsed.stages[0].instructions;
  assertEquals(run.keyword, "RUN");
  assertEquals(run.line, 4);
  assertEquals(run.arguments, "echo a   b");
  assertEquals(run.json, undefined);
  assertEquals(cmd.json, ["cat", "/x"]);
  assertEquals(copy.flags, [{ name: "from", value: "build" }, { name: "chown", value: "1:2" }]);
  assertEquals(copy.arguments, "a b /c/");
  assertEquals(parsed.stages[1].from.line, 10);
  assertEquals(parsed.stages[1].instructions[0].keyword, "ENTRYPOINT");
});

Deno.test("parse: the escape directive makes the backtick the continuation character", () => {
  const parsed = parseDockerfile("# escape=`\nFROM busybox\nRUN echo a `\n  b\nRUN echo c\\d\n");
  assertEquals(parsed.escapeCharacter, "`");
  const [first, second] = parsed.stages[0].instructions;
  assertEquals(first.arguments, "echo a   b");
  assertEquals(second.arguments, "echo c\\d");
});

Deno.test("parse: heredocs are split off RUN", () => {
  const parsed = parseDockerfile("FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\nRUN true\n");
  const [heredoc, after] = parsed.stages[0].instructions;
  assertEquals(heredoc.heredocs, [{ name: "EOF", body: "echo one\necho two\n" }]);
  assertEquals(after.arguments, "true");
  assertEquals(after.line, 6);
});

Deno.test("parse: errors name the line, as dockerd's parser does", () => {
  const cases: [string, string][] = [
    [
      "FROM busybox\nRUN true\nBOGUS x\n",
      "dockerfile parse error line 3: unknown instruction: BOGUS",
    ],
    ["FROM busybox\nENV\n", "dockerfile parse error line 2: ENV requires at least one argument"],
    ["FROM a b\n", "dockerfile parse error line 1: FROM requires either one or three arguments"],
    ["FROM busybox\nCOPY onlyone\n", "dockerfile parse error line 2: COPY requires at least two"],
    ["FROM busybox\n\nCOPY --bogus=1 a b\n", "dockerfile parse error line 3: Unknown flag: bogus"],
    [
      "FROM busybox\nRUN --mount=type=cache,target=/x true\n",
      "line 2: the --mount option requires BuildKit",
    ],
    [
      "FROM busybox\nSHELL /bin/bash -c\n",
      "line 2: SHELL requires the arguments to be in JSON form",
    ],
    ["FROM busybox\nWORKDIR\n", "line 2: WORKDIR requires exactly one argument"],
    ["FROM busybox AS x\nFROM busybox AS X\n", "line 2: duplicate name x"],
    ["FROM busybox\nHEALTHCHECK BLAH x\n", 'line 2: Unknown type "BLAH" in HEALTHCHECK'],
  ];
  for (const [text, expected] of cases) {
    const error = assertThrows(() => parseDockerfile(text), DockerfileParseError);
    assertStringIncludes(error.message, expected);
  }
  assertThrows(() => parseDockerfile("RUN true\n"), Error, "no build stage in current context");
  assertThrows(() => parseDockerfile("# only a comment\n"), Error, "cannot be empty");
});

Deno.test("variables: $X, ${X}, defaults, alternatives, quotes and escapes", () => {
  const scope = scopeOf(["A=one", "EMPTY=", "SPACED=x y"]);
  assertEquals(expandVariables("$A/${A}", scope), "one/one");
  assertEquals(
    expandVariables("${MISSING:-fallback} ${EMPTY:-e} ${EMPTY-set}", scope),
    "fallback e ",
  );
  assertEquals(expandVariables("${A:+alt}|${MISSING:+alt}", scope), "alt|");
  assertEquals(expandVariables("'$A' \"$A\" \\$A", scope), "$A one $A");
  assertEquals(expandVariables("`$A", scope, "`"), "$A");
  assertEquals(expandWords('/a "$SPACED" $SPACED', scope), ["/a", "x y", "x", "y"]);
  assertEquals(parseKeyValuePairs('K=$A L="two words" M=\\"q', scope), [
    ["K", "one"],
    ["L", "two words"],
    ["M", '"q'],
  ]);
  assertEquals(parseKeyValuePairs("OLD value with  spaces", scope), [[
    "OLD",
    "value with  spaces",
  ]]);
  assertThrows(() => expandVariables("${A", scope));
});

Deno.test("history texts are Go's formatting of the step", () => {
  assertEquals(goQuotedList(["cat", "/x y", 'q"']), '["cat" "/x y" "q\\""]');
  assertEquals(goQuotedRune(3), "'\\x03'");
  assertEquals(goQuotedRune(0), "'\\x00'");
  assertEquals(goQuotedRune(65), "'A'");
  assertEquals(parseGoDuration("1m30s"), 90e9);
  assertEquals(parseGoDuration("500ms"), 500e6);
  assertEquals(formatGoDuration(90e9), "1m30s");
  assertEquals(formatGoDuration(5e9), "5s");
  assertEquals(formatGoDuration(0), "0s");
  assertEquals(formatGoDuration(3600e9), "1h0m0s");
  assertThrows(() => parseGoDuration("5 seconds"));
  assertEquals(parsePortSpecs(["80", "443/udp", "8000-8001"]), [
    "80/tcp",
    "443/udp",
    "8000/tcp",
    "8001/tcp",
  ]);
  assertThrows(() => parsePortSpecs(["http"]));
  assertEquals(parseSignal("SIGTERM"), 15); // STOPSIGNAL is checked with lib/linux's parser
  assertEquals(parseSignal("9"), 9);
  assertThrows(() => parseSignal("SIGNOPE"));
});

Deno.test("the query string of POST /build becomes the build options", () => {
  const query = new URLSearchParams(
    "t=a:1&t=b&dockerfile=sub/Dockerfile&buildargs=%7B%22V%22%3A%222%22%7D&nocache=1&q=1" +
      "&target=build&rm=0&forcerm=1&labels=%7B%22k%22%3A%22v%22%7D&pull=1",
  );
  const options = buildOptionsFromQuery(query);
  assertEquals(options.tags, ["a:1", "b"]);
  assertEquals(options.dockerfile, "sub/Dockerfile");
  assertEquals(options.buildArgs, { V: "2" });
  assert(options.noCache && options.quiet && options.pull && options.forceRemove);
  assertEquals(options.remove, false);
  assertEquals(options.target, "build");
  assertEquals(options.labels, { k: "v" });
  const defaults = buildOptionsFromQuery(new URLSearchParams(""));
  assertEquals(defaults.dockerfile, "Dockerfile");
  assertEquals(defaults.remove, true);
  assertThrows(() => buildOptionsFromQuery(new URLSearchParams("buildargs=[1]")));
  assertThrows(() => buildOptionsFromQuery(new URLSearchParams("buildargs={bad")));
});
