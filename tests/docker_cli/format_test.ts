// Unit tests for mini-docker's formatting: go-units sizes and durations, the elastic
// tabwriter, the Go template interpreter, Go-style JSON, and the listing contexts.
// Expected values are what docker 28 prints (checked against the real CLI where noted).

import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  bytesSize,
  formatGoG,
  humanDuration,
  humanSince,
  humanSize,
  humanSizeWithPrecision,
  ramInBytes,
} from "../../lib/docker_cli/format/units.ts";
import { alignTable, TabWriter } from "../../lib/docker_cli/format/tabwriter.ts";
import { parseTemplate, TemplateError } from "../../lib/docker_cli/format/template.ts";
import { parseDockerTemplate } from "../../lib/docker_cli/format/functions.ts";
import { compactJson, goJson, indentJson } from "../../lib/docker_cli/format/go_json.ts";
import {
  CONTAINER_HEADER,
  ContainerContext,
  containerFormat,
  displayablePorts,
  ellipsis,
  truncateId,
} from "../../lib/docker_cli/format/container.ts";
import { FormatError, renderFormat } from "../../lib/docker_cli/format/formatter.ts";
import { IMAGE_HEADER, imageFormat, imageRows } from "../../lib/docker_cli/format/image.ts";
import { naturalLess } from "../../lib/docker_cli/format/network.ts";
import { diskUsageRows } from "../../lib/docker_cli/format/disk_usage.ts";
import { reformatBuildTime } from "../../lib/docker_cli/format/go_time.ts";

Deno.test("sizes use decimal units with three significant digits, like go-units", () => {
  assertEquals(humanSizeWithPrecision(1982340, 3), "1.98MB");
  assertEquals(humanSizeWithPrecision(4260000, 3), "4.26MB");
  assertEquals(humanSizeWithPrecision(115, 3), "115B");
  assertEquals(humanSizeWithPrecision(0, 3), "0B");
  assertEquals(humanSizeWithPrecision(1000, 3), "1kB");
  assertEquals(humanSizeWithPrecision(999_999, 3), "1e+03kB"); // Go's %g switches to exponent form
  assertEquals(humanSize(1982340), "1.982MB");
  assertEquals(humanSize(36), "36B");
  assertEquals(bytesSize(25276502016), "23.54GiB");
  assertEquals(bytesSize(1024), "1KiB");
});

Deno.test("formatGoG follows Go's %g rules", () => {
  assertEquals(formatGoG(1.5, 3), "1.5");
  assertEquals(formatGoG(0.0001234, 3), "0.000123");
  assertEquals(formatGoG(0.00001234, 3), "1.23e-05");
  assertEquals(formatGoG(123456, 3), "1.23e+05");
  assertEquals(formatGoG(100, 3), "100");
});

Deno.test("durations read like docker's CREATED column", () => {
  assertEquals(humanDuration(500), "Less than a second");
  assertEquals(humanDuration(1000), "1 second");
  assertEquals(humanDuration(45_000), "45 seconds");
  assertEquals(humanDuration(90_000), "About a minute");
  assertEquals(humanDuration(2 * 60_000), "2 minutes");
  assertEquals(humanDuration(59 * 60_000), "59 minutes");
  assertEquals(humanDuration(89 * 60_000), "About an hour"); // hours round: 1.48 + 0.5
  assertEquals(humanDuration(5 * 3_600_000), "5 hours");
  assertEquals(humanDuration(3 * 24 * 3_600_000), "3 days");
  assertEquals(humanDuration(21 * 24 * 3_600_000), "3 weeks");
  assertEquals(humanDuration(90 * 24 * 3_600_000), "3 months");
  assertEquals(humanDuration(3 * 365 * 24 * 3_600_000), "3 years");
  assertEquals(humanSince(1000, 1000 * 1000 + 120_000), "2 minutes ago");
});

Deno.test("memory flags parse with binary multipliers", () => {
  assertEquals(ramInBytes("512m"), 512 * 1024 * 1024);
  assertEquals(ramInBytes("1g"), 1024 ** 3);
  assertEquals(ramInBytes("1.5GiB"), 1.5 * 1024 ** 3);
  assertEquals(ramInBytes("100"), 100);
  assertEquals(ramInBytes("64kb"), 64 * 1024);
  assertThrows(() => ramInBytes("12q"), Error, "invalid suffix: 'q'");
  assertThrows(() => ramInBytes("m"), Error, "invalid size");
});

Deno.test("tabwriter pads columns to the widest cell plus 3, at least 10", () => {
  const text = alignTable("CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox:local\tt1\n");
  assertEquals(
    text,
    "CONTAINER ID   IMAGE           NAMES\n" +
      "abc            busybox:local   t1\n",
  );
  // The empty `docker ps` table: every header padded, the last column not.
  assertEquals(
    alignTable("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n"),
    "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n",
  );
});

Deno.test("tabwriter column blocks end at a line without that column", () => {
  const writer = new TabWriter(0, 1);
  writer.write("a\tb\nlonger\tc\nno-tabs-here\nx\ty\n");
  assertEquals(writer.flush(), "a      b\nlonger c\nno-tabs-here\nx y\n");
});

Deno.test("tabwriter counts wide characters as two columns", () => {
  assertEquals(alignTable("名前\tX\nab\tY\n", 0, 1), "名前 X\nab   Y\n");
});

Deno.test("templates: fields, chains, pipelines and functions", () => {
  const data = {
    Name: "web",
    State: { Running: true, Pid: 42 },
    Names: ["a", "b"],
    Labels: { "com.example": "x", other: "y" },
    Empty: "",
  };
  const run = (source: string) => parseDockerTemplate(source).execute(data);
  assertEquals(run("{{.Name}}"), "web");
  assertEquals(run("{{.State.Pid}} {{.State.Running}}"), "42 true");
  assertEquals(run("{{.Name | upper}}"), "WEB");
  assertEquals(run('{{join .Names ","}}'), "a,b");
  assertEquals(run("{{json .Names}}"), '["a","b"]');
  assertEquals(run("{{json .State}}"), '{"Running":true,"Pid":42}');
  assertEquals(run('{{index .Labels "com.example"}}'), "x");
  assertEquals(run('{{index .Labels "missing"}}|'), "|");
  assertEquals(run("{{.Missing}}"), "<no value>");
  assertEquals(run("{{len .Names}}"), "2");
  assertEquals(run('{{printf "%-5s|%3d" .Name .State.Pid}}'), "web  | 42");
  assertEquals(run("{{.Labels}}"), "map[com.example:x other:y]");
  assertEquals(run("{{.Names}}"), "[a b]");
  assertEquals(run("{{pad .Name 2 1}}|{{pad .Empty 2 1}}|"), "  web ||");
  assertEquals(run("{{truncate .Name 2}}"), "we");
  assertEquals(run('{{split "a:b" ":"}}'), "[a b]");
  assertEquals(run('{{title "hello world"}}'), "Hello World");
  assertEquals(run("{{(index .Names 1) | upper}}"), "B");
});

Deno.test("templates: control structures, variables and whitespace trimming", () => {
  const data = { Items: ["x", "y", "z"], On: true, Off: false, Map: { b: 2, a: 1 }, Nil: null };
  const run = (source: string) => parseTemplate(source).execute(data);
  assertEquals(run("{{if .On}}yes{{else}}no{{end}}"), "yes");
  assertEquals(run("{{if .Off}}yes{{else if .On}}second{{else}}no{{end}}"), "second");
  assertEquals(run("{{range .Items}}[{{.}}]{{end}}"), "[x][y][z]");
  assertEquals(run("{{range $i, $e := .Items}}{{$i}}={{$e}} {{end}}"), "0=x 1=y 2=z ");
  assertEquals(run("{{range $k, $v := .Map}}{{$k}}{{$v}}{{end}}"), "a1b2"); // maps in key order
  assertEquals(run("{{range .Nil}}x{{else}}empty{{end}}"), "empty");
  assertEquals(run("{{with .Map}}{{.a}}{{end}}"), "1");
  assertEquals(run("{{$x := .On}}{{if $x}}set{{end}}"), "set");
  assertEquals(run("a  {{- .On -}}  b"), "atrueb");
  assertEquals(run("{{/* a comment */}}ok"), "ok");
  assertEquals(run("{{if and .On (not .Off)}}both{{end}}"), "both");
  assertEquals(run("{{if eq (len .Items) 3}}three{{end}}"), "three");
  assertEquals(run('{{if eq "a" "b" "a"}}any{{end}}'), "any");
  assertEquals(run("{{if ne .Nil nil}}set{{else}}nil{{end}}"), "nil");
  assertEquals(run('{{range .Items}}{{if eq . "y"}}{{break}}{{end}}{{.}}{{end}}'), "x");
});

Deno.test("templates: errors read like Go's", () => {
  const parseError = assertThrows(() => parseTemplate("{{.Name"), TemplateError);
  assertEquals(parseError.message, "template: :1: unclosed action");
  const unknownFunction = assertThrows(() => parseTemplate("{{nosuch .X}}"), TemplateError);
  assertEquals(unknownFunction.message, 'template: :1: function "nosuch" not defined');
  const context = new ContainerContext({ Id: "abc", Created: 0 }, true);
  const missingField = assertThrows(
    () => parseTemplate("{{.Foo}}").execute(context),
    TemplateError,
  );
  assertEquals(
    missingField.message,
    'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext',
  );
  const strict = assertThrows(
    () => parseTemplate("x {{.A.Nope}}").execute({ A: {} }, {}, { missingKeyError: true }),
    TemplateError,
  );
  assertEquals(
    strict.message,
    'template: :1:4: executing "" at <.A.Nope>: map has no entry for key "Nope"',
  );
});

Deno.test("Go JSON: HTML escaping, indentation that keeps the daemon's bytes", () => {
  assertEquals(goJson({ a: "<b>&" }), '{"a":"\\u003cb\\u003e\\u0026"}');
  assertEquals(goJson({ a: "<b>&" }, { escapeHtml: false }), '{"a":"<b>&"}');
  assertEquals(goJson("\u2028"), '"\\u2028"');
  const raw =
    '{"Id":"x","Args":[],"Env":null,"Config":{"Cmd":["sh","-c","a \\u003e b"]},"Labels":{}}';
  assertEquals(
    indentJson(raw, "", "    "),
    [
      "{",
      '    "Id": "x",',
      '    "Args": [],',
      '    "Env": null,',
      '    "Config": {',
      '        "Cmd": [',
      '            "sh",',
      '            "-c",',
      '            "a \\u003e b"',
      "        ]",
      "    },",
      '    "Labels": {}',
      "}",
    ].join("\n"),
  );
  assertEquals(compactJson('[ {"a" : "b c"} ,\n 1 ]'), '[{"a":"b c"},1]');
});

Deno.test("container rows: short IDs, ellipsized quoted commands, names without slash", () => {
  const context = new ContainerContext({
    Id: "c1a69c3c038977201d7af9f5821dad7c279a0dba697012e5a529400aa9509ef3",
    Names: ["/t1"],
    Image: "busybox:local",
    ImageID: "sha256:74eee1d3762b9601e4a64212b984f5e96d3283082e6a9c6aa448e2750bdfbc66",
    Command: "sh -c 'while true; do sleep 1; done'",
    Created: 1,
    Ports: [],
    State: "running",
    Status: "Up 13 seconds",
  }, true);
  assertEquals(context.ID(), "c1a69c3c0389");
  assertEquals(context.Names(), "t1");
  assertEquals(context.Command(), '"sh -c \'while true; …"'); // 19 characters and …
  assertEquals(
    new ContainerContext({ ...context.container }, false).Command(),
    "\"sh -c 'while true; do sleep 1; done'\"",
  );
  assertEquals(context.Image(), "busybox:local");
  assertEquals(
    new ContainerContext({ ...context.container, Image: "docker.io/library/busybox:latest" }, true)
      .Image(),
    "busybox:latest",
  );
  assertEquals(
    new ContainerContext({ ...context.container, Image: context.container.ImageID }, true).Image(),
    "74eee1d3762b",
  );
  assertEquals(truncateId("sha256:74eee1d3762b9601e4a"), "74eee1d3762b");
  assertEquals(ellipsis("abcdef", 4), "abc…");
  assertEquals(ellipsis("abc", 4), "abc");
});

Deno.test("ports fold into ranges and list host mappings last", () => {
  assertEquals(
    displayablePorts([
      { IP: "0.0.0.0", PrivatePort: 8080, PublicPort: 32768, Type: "tcp" },
      { IP: "::", PrivatePort: 8080, PublicPort: 32768, Type: "tcp" },
    ]),
    "0.0.0.0:32768->8080/tcp, [::]:32768->8080/tcp",
  );
  assertEquals(
    displayablePorts([
      { PrivatePort: 81, Type: "tcp" },
      { PrivatePort: 80, Type: "tcp" },
      { PrivatePort: 53, Type: "udp" },
      { IP: "127.0.0.1", PrivatePort: 9000, PublicPort: 9000, Type: "udp" },
      { IP: "127.0.0.1", PrivatePort: 9001, PublicPort: 9001, Type: "udp" },
    ]),
    "53/udp, 80-81/tcp, 127.0.0.1:9000-9001->9000-9001/udp",
  );
});

Deno.test("docker ps table and JSON rendering", () => {
  const rows = [
    new ContainerContext({
      Id: "c1a69c3c038977201d7af9f5821dad7c279a0dba697012e5a529400aa9509ef3",
      Names: ["/t1"],
      Image: "busybox:local",
      ImageID: "sha256:74ee",
      Command: "sleep 300",
      Created: Math.floor(Date.now() / 1000) - 5 * 3600,
      Ports: [{ IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp" }],
      State: "running",
      Status: "Up 5 hours",
    }, true),
  ];
  assertEquals(
    renderFormat(containerFormat("", false, false), rows, CONTAINER_HEADER),
    "CONTAINER ID   IMAGE           COMMAND       CREATED       STATUS       PORTS                  NAMES\n" +
      'c1a69c3c0389   busybox:local   "sleep 300"   5 hours ago   Up 5 hours   0.0.0.0:8080->80/tcp   t1\n',
  );
  assertEquals(
    renderFormat(containerFormat("", true, false), rows, CONTAINER_HEADER),
    "c1a69c3c0389\n",
  );
  const json = JSON.parse(renderFormat("json", rows, CONTAINER_HEADER));
  assertEquals(Object.keys(json), [...Object.keys(json)].sort());
  assertEquals(json.Ports, "0.0.0.0:8080->80/tcp");
  assert(renderFormat("{{json .}}", rows, CONTAINER_HEADER).includes("0.0.0.0:8080-\\u003e80/tcp"));
  assertEquals(
    renderFormat("table {{.Names}}\\t{{.State}}", rows, CONTAINER_HEADER),
    "NAMES     STATE\nt1        running\n",
  );
  assertThrows(
    () => renderFormat("{{.Nope}}", rows, CONTAINER_HEADER),
    FormatError,
    "template parsing error",
  );
});

Deno.test("docker images: one row per tag, dangling images as <none>", () => {
  const created = Math.floor(Date.now() / 1000) - 21 * 24 * 3600;
  const images = [
    {
      Id: "sha256:74eee1d3762b9601e4a64212b984f5e96d3283082e6a9c6aa448e2750bdfbc66",
      RepoTags: ["busybox:local", "docker.io/library/busybox:1.36"],
      RepoDigests: ["busybox@sha256:" + "1".repeat(64)],
      Created: created,
      Size: 1982340,
    },
    {
      Id: "sha256:" + "a".repeat(64),
      RepoTags: null,
      RepoDigests: null,
      Created: created,
      Size: 10,
    },
  ];
  const format = imageFormat("table", false, false);
  assertEquals(
    renderFormat(format, imageRows(images, true, false, format), IMAGE_HEADER),
    "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n" +
      "busybox      local     74eee1d3762b   3 weeks ago   1.98MB\n" +
      "busybox      1.36      74eee1d3762b   3 weeks ago   1.98MB\n" +
      "<none>       <none>    aaaaaaaaaaaa   3 weeks ago   10B\n",
  );
  const withDigests = imageFormat("table", false, true);
  const rows = imageRows(images, true, true, withDigests);
  assertEquals(rows[0].Digest(), "sha256:" + "1".repeat(64));
});

Deno.test("networks sort in natural order", () => {
  const names = ["net10", "bridge", "net2", "host", "none"];
  assertEquals(
    names.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0)),
    ["bridge", "host", "net2", "net10", "none"],
  );
});

Deno.test("system df summarises images, containers, volumes and build cache", () => {
  const rows = diskUsageRows({
    LayersSize: 2000000,
    Images: [{ Id: "a", Created: 0, Size: 2000000, SharedSize: 0, Containers: 1 }],
    Containers: [
      { Id: "c1", Created: 0, State: "running", SizeRw: 30 },
      { Id: "c2", Created: 0, State: "exited", SizeRw: 10 },
    ],
    Volumes: [],
    BuildCache: [],
  });
  assertEquals(
    rows.map((row) => [row.Type(), row.TotalCount(), row.Active(), row.Size(), row.Reclaimable()]),
    [
      ["Images", "1", "1", "2MB", "0B (0%)"],
      ["Containers", "2", "1", "40B", "10B (25%)"],
      ["Local Volumes", "0", "0", "0B", "0B"],
      ["Build Cache", "0", "0", "0B", "0B"],
    ],
  );
});

Deno.test("build times are shown in ANSI C form", () => {
  assertEquals(
    reformatBuildTime("2026-05-07T21:09:36.000000000+00:00"),
    "Thu May  7 21:09:36 2026",
  );
  assertEquals(reformatBuildTime("not a date"), "not a date");
});
