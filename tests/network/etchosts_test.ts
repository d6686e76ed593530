// The generated /etc/hosts, /etc/hostname and /etc/resolv.conf, and the in-place rewrite
// that keeps a bind-mounted file current.

import { assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import {
  buildHostnameFile,
  buildHostsFile,
  buildResolvConf,
  parseExtraHosts,
  parseResolvConf,
  peersMarker,
  writeFileInPlace,
} from "../../lib/network/etchosts/mod.ts";

Deno.test("hosts file: Docker's fixed lines, extra hosts, self, then peers", () => {
  const text = buildHostsFile({
    extraHosts: parseExtraHosts(["db:10.0.0.5", "gw:host-gateway"], "172.28.0.1"),
    self: [{ address: "172.29.0.2", names: ["abc123def456", "web", "web"] }],
    peers: [{ address: "172.29.0.3", names: ["api", "backend"] }],
  });
  assertEquals(
    text,
    [
      "127.0.0.1\tlocalhost",
      "::1\tlocalhost ip6-localhost ip6-loopback",
      "fe00::0\tip6-localnet",
      "ff00::0\tip6-mcastprefix",
      "ff02::1\tip6-allnodes",
      "ff02::2\tip6-allrouters",
      "10.0.0.5\tdb",
      "172.28.0.1\tgw",
      "172.29.0.2\tabc123def456 web",
      peersMarker,
      "172.29.0.3\tapi backend",
      "",
    ].join("\n"),
  );
  assertEquals(buildHostsFile({}).split("\n").length, 7, "six lines and a final newline");
  assertThrows(() => parseExtraHosts(["nocolon"]), Error, "NAME:IP");
  assertThrows(() => parseExtraHosts(["gw:host-gateway"]), Error, "needs a bridge");
  assertEquals(buildHostnameFile("web1"), "web1\n");
});

Deno.test("resolv.conf: host's servers without loopback ones, fallbacks and overrides", () => {
  const host = [
    "# from the host",
    "nameserver 127.0.0.53",
    "nameserver 10.255.255.53",
    "search corp.example lab.example",
    "options edns0 trust-ad",
    "",
  ].join("\n");
  assertEquals(parseResolvConf(host), {
    nameservers: ["127.0.0.53", "10.255.255.53"],
    search: ["corp.example", "lab.example"],
    options: ["edns0", "trust-ad"],
  });
  const built = buildResolvConf(host);
  assertStringIncludes(built, "nameserver 10.255.255.53\n");
  assertEquals(built.includes("127.0.0.53"), false, "the host's loopback resolver is dropped");
  assertStringIncludes(built, "search corp.example lab.example\n");
  assertStringIncludes(built, "options edns0 trust-ad\n");
  const onlyLoopback = buildResolvConf("nameserver 127.0.0.1\n");
  assertStringIncludes(onlyLoopback, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  const overridden = buildResolvConf(host, {
    dns: ["192.0.2.53"],
    dnsSearch: ["."],
    dnsOptions: ["ndots:2"],
  });
  assertEquals(
    overridden.split("\n").slice(1).join("\n"),
    "nameserver 192.0.2.53\noptions ndots:2\n",
  );
});

Deno.test("a rewrite keeps the file's inode, so a bind mount of it sees the change", async () => {
  const directory = await Deno.makeTempDir({ prefix: "mini-hosts-" });
  try {
    const path = `${directory}/hosts`;
    writeFileInPlace(path, "a long first version of the file\n");
    const before = Deno.statSync(path).ino;
    writeFileInPlace(path, "short\n");
    assertEquals(Deno.statSync(path).ino, before);
    assertEquals(Deno.readTextFileSync(path), "short\n");
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
