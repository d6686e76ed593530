// `docker events` for images and networks, as moby logs them: a live `GET /events`
// subscription sees, in order, `load`, `tag`, `save`, `untag`, `delete`, `push` and one
// `prune` (image events: the image ID as the actor, named after the new tag for `tag`
// and after the image ID otherwise; pull/push named after the reference), and `create`,
// `connect`/`disconnect` (with the container's ID: at start, stop, and network
// connect/disconnect of a running container, never for a stopped one), `destroy` and
// `prune` (network events: the network ID, its name and driver type). The same history
// read back by the real docker CLI (`docker events --since --until --format '{{json .}}'`)
// is identical, and its filters (type, event, image, network) pick the right ones.

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import { type CommandResult, TestDockerd } from "../helpers/dockerd.ts";
import { TestRegistry } from "../registry/support/registry.ts";
import { containerTestIgnored } from "./containers_fixture.ts";
import { networkSetup, withNetworkDaemon } from "./network_fixture.ts";
import { EventsService } from "../../lib/dockerd/events.ts";
import { eventFilter } from "../../lib/dockerd/routes/system.ts";

const ignore = containerTestIgnored("image and network events", "busybox");
const quickStop = { "shutdown-timeout": 1 };

/** What the tests compare of an event: its kind, action, actor and attributes. */
interface SeenEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

function ok(result: CommandResult, what: string): string {
  assertEquals(result.code, 0, `${what} failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

function essentials(event: SeenEvent): SeenEvent {
  return {
    Type: event.Type,
    Action: event.Action,
    Actor: { ID: event.Actor.ID ?? "", Attributes: event.Actor.Attributes ?? {} },
  };
}

/** A live `GET /events` subscription; take() waits for the next events. */
class Subscription {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #abort: AbortController;

  private constructor(reader: ReadableStreamDefaultReader<string>, abort: AbortController) {
    this.#reader = reader;
    this.#abort = abort;
  }

  /** Subscribes; resolves once the daemon answered (from then on nothing is missed). */
  static async open(daemon: TestDockerd, filters: Record<string, string[]>) {
    const abort = new AbortController();
    const query = encodeURIComponent(JSON.stringify(filters));
    const response = await daemon.api(
      "GET",
      `/v1.41/events?filters=${query}`,
      undefined,
      {},
      abort.signal,
    );
    assertEquals(response.status, 200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    return new Subscription(reader, abort);
  }

  /** The next `count` events (fails if the stream ends first). */
  async take(count: number): Promise<SeenEvent[]> {
    const events: SeenEvent[] = [];
    while (events.length < count) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline).trim();
        this.#buffer = this.#buffer.slice(newline + 1);
        if (line !== "") events.push(essentials(JSON.parse(line)));
        continue;
      }
      // A guard against hanging, not a speed check: an awaited event that never comes.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`waited in vain for ${count} events, got ${JSON.stringify(events)}`)),
          60_000,
        );
      });
      const { value, done } = await Promise.race([this.#reader.read(), stalled]).finally(() =>
        clearTimeout(timer)
      );
      if (done) throw new Error(`the event stream ended after ${JSON.stringify(events)}`);
      this.#buffer += value;
    }
    return events;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#reader.cancel().catch(() => {});
  }
}

/** `docker events` over a closed window, one JSON object per event. */
async function cliEvents(daemon: TestDockerd, since: number, filters: string[]) {
  const until = Math.floor(Date.now() / 1000) + 1;
  const output = ok(
    await daemon.docker([
      "events",
      "--since",
      String(since),
      "--until",
      String(until),
      ...filters.flatMap((filter) => ["--filter", filter]),
      "--format",
      "{{json .}}",
    ]),
    "docker events",
  );
  return output.split("\n").filter((line) => line.trim() !== "").map((line) =>
    essentials(JSON.parse(line))
  );
}

function image(action: string, id: string, attributes: Record<string, string>): SeenEvent {
  return { Type: "image", Action: action, Actor: { ID: id, Attributes: attributes } };
}

function network(
  action: string,
  id: string,
  name: string,
  type: string,
  container?: string,
): SeenEvent {
  const attributes: Record<string, string> = container ? { container, name, type } : { name, type };
  return { Type: "network", Action: action, Actor: { ID: id, Attributes: attributes } };
}

Deno.test("the event filters match image and network events as moby's do", () => {
  const events = new EventsService();
  const id = `sha256:${"ab".repeat(32)}`;
  const tag = events.log("image", "tag", id, { name: "example.com/team/app:v1" });
  const untag = events.log("image", "untag", id, { name: id });
  const pull = events.log("image", "pull", "busybox:latest", { name: "busybox" });
  const create = events.log("network", "create", "f00d".repeat(16), {
    name: "backend",
    type: "bridge",
  });
  const start = events.log("container", "start", "c0ffee".repeat(10), {
    image: "busybox:latest",
    name: "web",
  });
  const all = [tag, untag, pull, create, start];
  const pick = (filters: Record<string, string[]>) =>
    all.filter(eventFilter(new Map(Object.entries(filters)))).map((event) => event.Action);
  assertEquals(pick({ type: ["image"] }), ["tag", "untag", "pull"]);
  assertEquals(pick({ type: ["image"], event: ["tag"] }), ["tag"]);
  assertEquals(pick({ image: ["example.com/team/app:v1"] }), ["tag"]);
  assertEquals(pick({ image: ["example.com/team/app"] }), ["tag"]); // moby's stripTag
  assertEquals(pick({ image: [id] }), ["tag", "untag"]);
  assertEquals(pick({ image: ["busybox"] }), ["pull", "start"]);
  assertEquals(pick({ network: ["backend"] }), ["create"]);
  assertEquals(pick({ network: ["f00d"] }), ["create"]);
  assertEquals(pick({ type: ["network"], event: ["create"] }), ["create"]);
});

Deno.test({
  name: "image events: load, tag, save, untag, delete, prune (live and through docker events)",
  ignore,
  async fn() {
    const since = Math.floor(Date.now() / 1000) - 1;
    const daemon = await TestDockerd.start({ config: quickStop });
    let subscription: Subscription | undefined;
    try {
      subscription = await Subscription.open(daemon, { type: ["image"] });
      const id = await daemon.loadBusybox();
      const labels = JSON.parse(
        ok(await daemon.docker(["inspect", "-f", "{{json .Config.Labels}}", id]), "inspect"),
      ) ?? {};
      const named = (name: string) => ({ ...labels, name });
      assertEquals(await subscription.take(1), [image("load", id, named(id))]);

      ok(await daemon.docker(["tag", "busybox", "events/bb:one"]), "tag");
      assertEquals(await subscription.take(1), [image("tag", id, named("events/bb:one"))]);

      const archive = join(daemon.paths.base, "saved.tar");
      ok(await daemon.docker(["save", "-o", archive, "events/bb:one"]), "save");
      assertEquals(await subscription.take(1), [image("save", id, named(id))]);

      // Another name is left: only untagged.
      ok(await daemon.docker(["rmi", "events/bb:one"]), "rmi events/bb:one");
      assertEquals(await subscription.take(1), [image("untag", id, named(id))]);
      // The last name: untagged, then deleted (gone: no labels left to copy).
      ok(await daemon.docker(["rmi", "busybox"]), "rmi busybox");
      assertEquals(await subscription.take(2), [
        image("untag", id, named(id)),
        image("delete", id, { name: id }),
      ]);

      const loaded = ok(await daemon.docker(["load", "-i", archive]), "load");
      assert(loaded.includes("Loaded image: events/bb:one"), loaded);
      assertEquals(await subscription.take(1), [image("load", id, named(id))]);

      const pruneResponse = await daemon.api(
        "POST",
        `/v1.41/images/prune?filters=${encodeURIComponent('{"dangling":["false"]}')}`,
      );
      const report = await pruneResponse.json();
      assertEquals(pruneResponse.status, 200, JSON.stringify(report));
      assert(report.SpaceReclaimed > 0, `nothing reclaimed: ${JSON.stringify(report)}`);
      const live = await subscription.take(3);
      assertEquals(live, [
        image("untag", id, named(id)),
        image("delete", id, { name: id }),
        image("prune", "", { reclaimed: String(report.SpaceReclaimed) }),
      ]);

      // The docker CLI reads the same history back, and its filters pick from it.
      const history = await cliEvents(daemon, since, ["type=image"]);
      assertEquals(history.map((event) => `${event.Action} ${event.Actor.ID}`), [
        `load ${id}`,
        `tag ${id}`,
        `save ${id}`,
        `untag ${id}`,
        `untag ${id}`,
        `delete ${id}`,
        `load ${id}`,
        `untag ${id}`,
        `delete ${id}`,
        "prune ",
      ]);
      assertEquals(history.slice(-3), live);
      assertEquals(await cliEvents(daemon, since, ["type=image", "event=tag"]), [
        image("tag", id, named("events/bb:one")),
      ]);
      // The CLI's default format: time, type, action, actor, (attributes).
      const plain = ok(
        await daemon.docker([
          "events",
          "--since",
          String(since),
          "--until",
          String(Math.floor(Date.now() / 1000) + 1),
          "--filter",
          "event=tag",
        ]),
        "docker events",
      );
      assertMatch(plain.trim(), new RegExp(`^\\S+ image tag ${id} \\(.*name=events/bb:one\\)$`));
      for (const name of ["events/bb:one", "events/bb"]) {
        assertEquals(
          (await cliEvents(daemon, since, [`image=${name}`])).map((event) => event.Action),
          ["tag"],
          `--filter image=${name}`,
        );
      }
      assertEquals((await cliEvents(daemon, since, [`image=${id}`])).length, 9);
    } finally {
      await subscription?.close();
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "image events: push is named after the reference pushed and its repository",
  ignore: ignore || requirements("push events", missingTool("docker-registry")),
  async fn() {
    const registry = await TestRegistry.start();
    const daemon = await TestDockerd.start({ config: quickStop });
    let subscription: Subscription | undefined;
    try {
      await daemon.loadBusybox();
      subscription = await Subscription.open(daemon, { type: ["image"], event: ["push"] });
      const name = `${registry.host}/events-bb`;
      ok(await daemon.docker(["tag", "busybox", `${name}:v1`]), "tag");
      ok(await daemon.docker(["push", `${name}:v1`]), "push");
      const [pushed] = await subscription.take(1);
      assertEquals(pushed.Actor.ID, `${name}:v1`);
      assertEquals(pushed.Actor.Attributes.name, name);
    } finally {
      await subscription?.close();
      await daemon.cleanup();
      await registry.stop();
    }
  },
});

Deno.test({
  name:
    "network events: create, connect/disconnect at start, stop and while running, destroy, prune",
  ignore,
  async fn() {
    const setup = networkSetup(quickStop);
    await withNetworkDaemon(setup, async (daemon) => {
      const since = Math.floor(Date.now() / 1000) - 1;
      const subscription = await Subscription.open(daemon, { type: ["network"] });
      try {
        const bridgeId =
          JSON.parse(ok(await daemon.docker(["network", "inspect", "bridge"]), "inspect"))[0].Id;
        const noneId =
          JSON.parse(ok(await daemon.docker(["network", "inspect", "none"]), "inspect"))[0].Id;
        const name = `${setup.tag}-events`;
        const netId = ok(await daemon.docker(["network", "create", name]), "network create").trim();
        assertEquals(await subscription.take(1), [network("create", netId, name, "bridge")]);

        const container = ok(
          await daemon.docker([
            "run",
            "-d",
            "--network",
            name,
            "--name",
            "ev-web",
            "busybox",
            "sleep",
            "300",
          ]),
          "run",
        ).trim();
        assertEquals(await subscription.take(1), [
          network("connect", netId, name, "bridge", container),
        ]);
        ok(await daemon.docker(["network", "connect", "bridge", "ev-web"]), "network connect");
        assertEquals(await subscription.take(1), [
          network("connect", bridgeId, "bridge", "bridge", container),
        ]);
        ok(await daemon.docker(["network", "disconnect", "bridge", "ev-web"]), "disconnect");
        assertEquals(await subscription.take(1), [
          network("disconnect", bridgeId, "bridge", "bridge", container),
        ]);

        // A stopped container's networks are only settings: no event until it runs.
        ok(await daemon.docker(["create", "--name", "ev-late", "busybox", "true"]), "create");
        ok(await daemon.docker(["network", "connect", name, "ev-late"]), "connect stopped");
        ok(await daemon.docker(["rm", "ev-late"]), "rm ev-late");

        // The "none" network is joined and left too (driver type "null").
        const once = ok(
          await daemon.docker(["run", "--network", "none", "--name", "ev-once", "busybox", "true"]),
          "run --network none",
        );
        assertEquals(once, "");
        const onceId = ok(await daemon.docker(["inspect", "-f", "{{.Id}}", "ev-once"]), "inspect")
          .trim();
        assertEquals(await subscription.take(2), [
          network("connect", noneId, "none", "null", onceId),
          network("disconnect", noneId, "none", "null", onceId),
        ]);
        ok(await daemon.docker(["rm", "ev-once"]), "rm ev-once");

        ok(await daemon.docker(["rm", "-f", "ev-web"]), "rm -f");
        assertEquals(await subscription.take(1), [
          network("disconnect", netId, name, "bridge", container),
        ]);
        ok(await daemon.docker(["network", "rm", name]), "network rm");
        assertEquals(await subscription.take(1), [network("destroy", netId, name, "bridge")]);

        const spare = `${setup.tag}-spare`;
        const spareId = ok(await daemon.docker(["network", "create", spare]), "create").trim();
        ok(await daemon.docker(["network", "prune", "-f"]), "network prune");
        assertEquals(await subscription.take(3), [
          network("create", spareId, spare, "bridge"),
          network("destroy", spareId, spare, "bridge"),
          { Type: "network", Action: "prune", Actor: { ID: "", Attributes: { reclaimed: "0" } } },
        ]);

        // Nothing more was logged, and the CLI's filters pick by network and action.
        const history = await cliEvents(daemon, since, ["type=network"]);
        assertEquals(history.length, 11);
        assertEquals(
          (await cliEvents(daemon, since, [`network=${name}`])).map((event) => event.Action),
          ["create", "connect", "disconnect", "destroy"],
        );
        assertEquals(
          (await cliEvents(daemon, since, ["type=network", "event=connect"])).map((event) =>
            event.Actor.ID
          ),
          [netId, bridgeId, noneId],
        );
      } finally {
        await subscription.close();
      }
    });
  },
});
