// Named network namespaces (`ip netns add` without `ip`), and the main-thread namespace
// switch: it must run only synchronous work and always come back.

import { assert, assertEquals, assertNotEquals, assertThrows } from "../helpers/assert.ts";
import { getLink, listLinks, NetlinkSocket } from "../../lib/network/netlink/mod.ts";
import {
  createNetworkNamespace,
  deleteNetworkNamespace,
  isNetworkNamespaceMounted,
  listNetworkNamespaces,
} from "../../lib/network/sandbox/namespace.ts";
import { inNetworkNamespace, ownNetworkNamespacePath } from "../../lib/network/sandbox/enter.ts";
import { assertNothingLeft, ipInNamespace, needsNetworkRoot, testTag } from "./support.ts";

const ignore = needsNetworkRoot("network namespaces");

Deno.test({
  name: "a namespace file holds a fresh network namespace until it is deleted",
  ignore,
  async fn() {
    const tag = testTag();
    const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
    const path = `${directory}/netns/${tag}`;
    try {
      createNetworkNamespace(path);
      assert(isNetworkNamespaceMounted(path), "the namespace file is an nsfs mount");
      assertEquals(listNetworkNamespaces(`${directory}/netns`), [path]);
      const own = Deno.readLinkSync(ownNetworkNamespacePath);
      const inside = inNetworkNamespace(path, () => Deno.readLinkSync(ownNetworkNamespacePath));
      assertNotEquals(inside, own, "a different namespace");
      assertEquals(Deno.readLinkSync(ownNetworkNamespacePath), own, "and back in ours");
      // Only a down loopback in there, seen both by netlink and by `ip`.
      const socket = NetlinkSocket.openIn(path);
      try {
        assertEquals(listLinks(socket).map((link) => link.name), ["lo"]);
        assertEquals(getLink(socket, "lo").up, false);
      } finally {
        socket.close();
      }
      assert((await ipInNamespace(path, ["-o", "link"])).includes("lo:"));
      assertThrows(() => createNetworkNamespace(path), Error, "EEXIST");
      assert(isNetworkNamespaceMounted(path), "a failed second create leaves the first intact");
    } finally {
      deleteNetworkNamespace(path);
    }
    assert(!isNetworkNamespaceMounted(path));
    assertEquals(listNetworkNamespaces(`${directory}/netns`), []);
    deleteNetworkNamespace(path); // idempotent
    await Deno.remove(directory, { recursive: true });
    await assertNothingLeft(tag);
  },
});

Deno.test({
  name: "the namespace switch refuses asynchronous work and always switches back",
  ignore,
  async fn() {
    const tag = testTag();
    const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
    const path = `${directory}/${tag}`;
    const own = Deno.readLinkSync(ownNetworkNamespacePath);
    try {
      createNetworkNamespace(path);
      assertThrows(
        () => inNetworkNamespace(path, () => Promise.resolve(1)),
        Error,
        "only synchronous work",
      );
      assertEquals(Deno.readLinkSync(ownNetworkNamespacePath), own);
      assertThrows(
        () =>
          inNetworkNamespace(path, () => {
            throw new Error("boom");
          }),
        Error,
        "boom",
      );
      assertEquals(Deno.readLinkSync(ownNetworkNamespacePath), own);
      assertThrows(() => inNetworkNamespace(`${directory}/missing`, () => 1), Error, "ENOENT");
      assertEquals(Deno.readLinkSync(ownNetworkNamespacePath), own);
    } finally {
      deleteNetworkNamespace(path);
      await Deno.remove(directory, { recursive: true });
    }
  },
});
