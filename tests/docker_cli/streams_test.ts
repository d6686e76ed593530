// Unit tests for mini-docker's stream handling (8-byte frame demultiplexing, pull/push
// progress rendering), flag parsing, and the create request built from `run` flags.

import { assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { demultiplexAll, Demultiplexer, frame } from "../../lib/docker_cli/streams/stdcopy.ts";
import {
  displayJsonMessages,
  JsonMessageError,
  progressString,
} from "../../lib/docker_cli/streams/jsonmessage.ts";
import { MemoryOutput } from "../../lib/docker_cli/streams/output.ts";
import { FlagError, parseFlags } from "../../lib/docker_cli/flags.ts";
import {
  buildContainerConfig,
  CONTAINER_FLAGS,
  parsePortSpecs,
  parseRestartPolicy,
} from "../../lib/docker_cli/commands/container/opts.ts";
import { parseHost } from "../../lib/docker_cli/client/engine.ts";
import { parseDetachKeys } from "../../lib/docker_cli/streams/hijack.ts";

const encoder = new TextEncoder();

async function* chunksOf(...texts: string[]): AsyncIterable<Uint8Array> {
  for (const text of texts) yield encoder.encode(text);
}

Deno.test("frames: header is stream byte + big-endian length (as in the logs trace)", () => {
  const bytes = frame(1, "line1\n");
  assertEquals([...bytes.slice(0, 8)], [1, 0, 0, 0, 0, 0, 0, 6]);
  assertEquals(new TextDecoder().decode(bytes.slice(8)), "line1\n");
});

Deno.test("demultiplexing splits stdout and stderr, even across chunk boundaries", async () => {
  const stream = new Uint8Array([
    ...frame(1, "out\n"),
    ...frame(2, "err\n"),
    ...frame(1, "more\n"),
  ]);
  assertEquals(await demultiplexAll(stream), { stdout: "out\nmore\n", stderr: "err\n" });
  let stdout = "";
  let stderr = "";
  const demux = new Demultiplexer({
    stdout: (bytes) => void (stdout += new TextDecoder().decode(bytes)),
    stderr: (bytes) => void (stderr += new TextDecoder().decode(bytes)),
  });
  for (let offset = 0; offset < stream.length; offset += 3) {
    await demux.push(stream.slice(offset, offset + 3));
  }
  assertEquals([stdout, stderr, demux.pending], ["out\nmore\n", "err\n", 0]);
  await assertRejects(
    () => demux.push(frame(3, "boom")),
    Error,
    "error from daemon in stream: boom",
  );
  await assertRejects(
    () => new Demultiplexer({}).push(frame(7, "x")),
    Error,
    "Unrecognized input header: 7",
  );
});

const PULL_STREAM = [
  '{"status":"Pulling from apiexp/built","id":"v1"}',
  '{"status":"Already exists","progressDetail":{},"id":"becca0465360"}',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"be2dd558ead5"}',
  '{"status":"Downloading","progressDetail":{"current":115,"total":115},"progress":"[=>]","id":"be2dd558ead5"}',
  '{"status":"Download complete","progressDetail":{},"id":"be2dd558ead5"}',
  '{"status":"Pull complete","progressDetail":{},"id":"be2dd558ead5"}',
  '{"status":"Digest: sha256:8712"}',
  '{"status":"Status: Downloaded newer image for localhost:5000/apiexp/built:v1"}',
].map((line) => line + "\r\n");

Deno.test("pull progress off a terminal: status lines only, no progress bars", async () => {
  const out = new MemoryOutput(false);
  await displayJsonMessages(chunksOf(...PULL_STREAM), out);
  assertEquals(
    out.text(),
    [
      "v1: Pulling from apiexp/built",
      "becca0465360: Already exists",
      "be2dd558ead5: Pulling fs layer",
      "be2dd558ead5: Download complete",
      "be2dd558ead5: Pull complete",
      "Digest: sha256:8712",
      "Status: Downloaded newer image for localhost:5000/apiexp/built:v1",
      "",
    ].join("\n"),
  );
});

Deno.test("pull progress on a terminal: one line per layer, redrawn in place", async () => {
  const out = new MemoryOutput(true, [40, 120]);
  await displayJsonMessages(chunksOf(...PULL_STREAM.slice(0, 4)), out);
  const esc = "\x1b[";
  assertEquals(
    out.text(),
    "v1: Pulling from apiexp/built\n" +
      // first layer: a new line, cursor up 1, erase, redraw, cursor down 1
      `\n${esc}1A${esc}2K\rbecca0465360: Already exists \r${esc}1B` +
      `\n${esc}1A${esc}2K\rbe2dd558ead5: Pulling fs layer \r${esc}1B` +
      `${esc}1A${esc}2K\rbe2dd558ead5: Downloading [==================================================>]     115B/115B\r${esc}1B`,
  );
});

Deno.test("progress bars: width, counts and the 50-column bar", () => {
  assertEquals(progressString({ current: 0, total: 0 }, 200), "");
  assertEquals(progressString({ current: 512 }, 200), "    512B");
  assertEquals(progressString({ current: 500, total: 1000 }, 80), "    500B/1kB");
  assertEquals(
    progressString({ current: 500, total: 1000 }, 120),
    `[${"=".repeat(25)}>${" ".repeat(25)}]     500B/1kB`,
  );
});

Deno.test("an errorDetail in the stream is the command's error", async () => {
  const out = new MemoryOutput(false);
  const error = await assertRejects(
    () =>
      displayJsonMessages(
        chunksOf(
          '{"status":"Pulling"}\n',
          '{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n',
        ),
        out,
      ),
    JsonMessageError,
  );
  assertEquals([error.message, out.text()], ["manifest unknown", "Pulling\n"]);
});

Deno.test("flags: combined shorthands, glued values, lists, booleans, interspersed args", () => {
  const specs = [
    { name: "interactive", short: "i", kind: "bool" as const, description: "" },
    { name: "tty", short: "t", kind: "bool" as const, description: "" },
    { name: "publish", short: "p", kind: "list" as const, description: "" },
    { name: "name", kind: "string" as const, description: "" },
    { name: "time", kind: "int" as const, description: "" },
    { name: "sig-proxy", kind: "bool" as const, defaultValue: true, description: "" },
  ];
  const parsed = parseFlags(
    ["-it", "-p8080:80", "-p", "9000:9000", "--name=web", "--sig-proxy=false", "img", "ls", "-l"],
    specs,
    false,
  );
  assertEquals(parsed.values.interactive, true);
  assertEquals(parsed.values.tty, true);
  assertEquals(parsed.values.publish, ["8080:80", "9000:9000"]);
  assertEquals(parsed.values.name, "web");
  assertEquals(parsed.values["sig-proxy"], false);
  assertEquals(parsed.positional, ["img", "ls", "-l"]); // flags end at the image for `run`
  assertEquals(parseFlags(["a", "--name", "x", "b"], specs).positional, ["a", "b"]);
  assertEquals(parseFlags(["--", "--name"], specs).positional, ["--name"]);
  assertThrows(() => parseFlags(["--bogus"], specs), FlagError, "unknown flag: --bogus");
  assertThrows(() => parseFlags(["-z"], specs), FlagError, "unknown shorthand flag: 'z' in -z");
  assertThrows(() => parseFlags(["--name"], specs), FlagError, "flag needs an argument: --name");
  assertThrows(
    () => parseFlags(["--time", "x"], specs),
    FlagError,
    'invalid argument "x" for "--time" flag: strconv.ParseInt: parsing "x": invalid syntax',
  );
});

Deno.test("port specs become ExposedPorts and PortBindings", () => {
  assertEquals(parsePortSpecs(["8080:80", "127.0.0.1::53/udp", "[::1]:9000:9000"]), {
    exposed: { "80/tcp": {}, "53/udp": {}, "9000/tcp": {} },
    bindings: {
      "80/tcp": [{ HostIp: "", HostPort: "8080" }],
      "53/udp": [{ HostIp: "127.0.0.1", HostPort: "" }],
      "9000/tcp": [{ HostIp: "::1", HostPort: "9000" }],
    },
  });
  assertEquals(parsePortSpecs(["8000-8001:80-81"]).bindings, {
    "80/tcp": [{ HostIp: "", HostPort: "8000" }],
    "81/tcp": [{ HostIp: "", HostPort: "8001" }],
  });
  assertEquals(parsePortSpecs(["8000-8010:80"]).bindings, {
    "80/tcp": [{ HostIp: "", HostPort: "8000-8010" }],
  });
  assertThrows(() => parsePortSpecs(["70000:80"]), Error, "invalid hostPort: 70000");
  assertThrows(() => parsePortSpecs(["80/xyz"]), Error, "invalid proto: xyz");
  assertThrows(() => parsePortSpecs(["1.2.3:80:80"]), Error, "invalid IP address: 1.2.3");
});

Deno.test("restart policies parse like docker's", () => {
  assertEquals(parseRestartPolicy("on-failure:3"), { Name: "on-failure", MaximumRetryCount: 3 });
  assertEquals(parseRestartPolicy("always"), { Name: "always", MaximumRetryCount: 0 });
  assertThrows(() => parseRestartPolicy(":3"), Error, "no policy provided before colon");
  assertThrows(() => parseRestartPolicy("on-failure:x"), Error, "must be an integer");
});

Deno.test("run flags become the create body the real CLI sends", async () => {
  const flags = parseFlags(
    [
      "-d",
      "-P",
      "-e",
      "A=1",
      "-w",
      "/srv",
      "-u",
      "1000",
      "--entrypoint",
      "sh",
      "-m",
      "64m",
      "--pids-limit",
      "10",
      "--restart",
      "on-failure:2",
      "--network",
      "host",
      "busybox",
      "-c",
      "true",
    ],
    [
      { name: "detach", short: "d", kind: "bool", description: "" },
      { name: "name", kind: "string", description: "" },
      ...CONTAINER_FLAGS,
    ],
    false,
  );
  const [image, ...command] = flags.positional;
  const { config, hostConfig, networkingConfig } = await buildContainerConfig(
    flags,
    image,
    command,
    [0, 0],
  );
  assertEquals(config.Image, "busybox");
  assertEquals(config.Cmd, ["-c", "true"]);
  assertEquals(config.Entrypoint, ["sh"]);
  assertEquals(config.Env, ["A=1"]);
  assertEquals([config.WorkingDir, config.User], ["/srv", "1000"]);
  assertEquals([config.AttachStdout, config.AttachStderr, config.AttachStdin], [true, true, false]);
  assertEquals(hostConfig.Memory, 64 * 1024 * 1024);
  assertEquals(hostConfig.PidsLimit, 10);
  assertEquals(hostConfig.PublishAllPorts, true);
  assertEquals(hostConfig.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 2 });
  assertEquals(hostConfig.NetworkMode, "host");
  assertEquals(Object.keys((networkingConfig as { EndpointsConfig: object }).EndpointsConfig), [
    "host",
  ]);
  // Key order follows the real CLI's JSON (see the runrm trace).
  assertEquals(Object.keys(config).slice(0, 6), [
    "Hostname",
    "Domainname",
    "User",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
  ]);
  assertEquals(Object.keys(hostConfig).slice(0, 4), [
    "Binds",
    "ContainerIDFile",
    "LogConfig",
    "NetworkMode",
  ]);
  const conflicting = parseFlags(
    ["--rm", "--restart", "always", "busybox"],
    CONTAINER_FLAGS,
    false,
  );
  await assertRejects(
    () => buildContainerConfig(conflicting, "busybox", [], [0, 0]),
    Error,
    "conflicting options: cannot specify both --restart and --rm",
  );
});

Deno.test("daemon addresses and detach keys", () => {
  assertEquals(parseHost("unix:///run/mini-docker.sock"), {
    kind: "unix",
    path: "/run/mini-docker.sock",
    text: "unix:///run/mini-docker.sock",
  });
  assertEquals(parseHost("tcp://127.0.0.1:2375").kind, "tcp");
  assertThrows(() => parseHost("ftp://x"), Error, "unable to parse docker host");
  assertEquals([...parseDetachKeys("ctrl-p,ctrl-q")], [16, 17]);
  assertEquals([...parseDetachKeys("a,ctrl-@")], [97, 0]);
});
