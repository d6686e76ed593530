// Integration tests of the Namespaces service and `mini-ctr namespaces`, against
// a real mini-containerd process on temp roots.

import { assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { ApiError } from "../../lib/api/errors.ts";

Deno.test("namespaces: create, label, list, remove through mini-ctr", async () => {
  const daemon = await TestContainerd.start();
  try {
    assertEquals((await daemon.ctr(["namespaces", "create", "moby", "team=docker"])).code, 0);
    assertEquals((await daemon.ctr(["ns", "label", "moby", "owner=lab"])).code, 0);
    const listing = await daemon.ctr(["namespaces", "ls"]);
    assertEquals(listing.code, 0);
    assertEquals(listing.stdout.split("\n")[0].trim(), "NAME LABELS");
    assertMatch(listing.stdout, /^moby\s+(team=docker,owner=lab|owner=lab,team=docker)$/m);
    assertEquals((await daemon.ctr(["ns", "ls", "-q"])).stdout.trim(), "moby");
    const removal = await daemon.ctr(["namespaces", "rm", "moby"]);
    assertEquals(removal.code, 0);
    assertEquals((await daemon.ctr(["ns", "ls", "-q"])).stdout.trim(), "");
  } finally {
    await daemon.cleanup();
  }
});

Deno.test("namespaces: bad names and duplicates are refused, the daemon stays up", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const bad = await daemon.ctr(["ns", "create", "not a name"]);
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr, /namespace "not a name" is invalid/);
    await client.namespaces.create("lab");
    const error = await assertRejects(() => client.namespaces.create("lab"), ApiError);
    assertEquals(error.code, "already_exists");
    const missing = await assertRejects(() => client.namespaces.delete("nope"), ApiError);
    assertEquals(missing.code, "not_found");
    assertEquals((await client.version()).revision, "mini");
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("namespaces: a namespace that still holds records cannot be removed", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    await client.namespaces.create("busy");
    // A table with a namespace column, written directly, stands for any store's records.
    await daemon.kill();
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${daemon.paths.root}/io.containerd.metadata.v1.bolt/meta.db`);
    db.exec("CREATE TABLE IF NOT EXISTS test_records (namespace TEXT, id TEXT)");
    db.exec("INSERT INTO test_records VALUES ('busy', 'x')");
    db.close();
    await daemon.restart();
    const refused = await daemon.ctr(["ns", "rm", "busy"]);
    assertEquals(refused.code, 1);
    assertMatch(refused.stderr, /must be empty.*test_records/);
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("daemon: a second daemon on the same root refuses to start", async () => {
  const daemon = await TestContainerd.start();
  try {
    const second = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        new URL("../../cmd/mini_containerd.ts", import.meta.url).pathname,
        "--root",
        daemon.paths.root,
        "--state",
        `${daemon.paths.base}/state2`,
        "--address",
        `${daemon.paths.base}/second.sock`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(second.code, 1);
    assertMatch(new TextDecoder().decode(second.stderr), /another mini-containerd \(pid \d+\)/);
    const mode = (await Deno.stat(daemon.paths.address)).mode! & 0o777;
    assertEquals(mode, 0o660);
  } finally {
    await daemon.cleanup();
  }
});

Deno.test("api: an unknown route, a huge body and broken JSON get clear errors", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const unknown = await assertRejects(
      () => client.transport.call("/containerd.services.nothing.v1.Nothing/Get", {}),
      ApiError,
    );
    assertEquals(unknown.code, "unimplemented");
    const huge = new Uint8Array(6 * 1024 * 1024).fill(32);
    const tooBig = await assertRejects(
      () =>
        client.transport.request(
          "/containerd.services.namespaces.v1.Namespaces/Create",
          huge,
        ),
      ApiError,
    );
    assertEquals(tooBig.code, "resource_exhausted");
    const broken = await assertRejects(
      () =>
        client.transport.request(
          "/containerd.services.namespaces.v1.Namespaces/Create",
          "{not json",
        ),
      ApiError,
    );
    assertEquals(broken.code, "invalid_argument");
    assertEquals((await client.version()).revision, "mini");
  } finally {
    client.close();
    await daemon.cleanup();
  }
});
