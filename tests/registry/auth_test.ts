// Auth tests against the real registry in its two auth set-ups: htpasswd (Basic) and
// token (Bearer tokens from an issuer the test runs, Docker Hub's flow end to end).

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { defaultCredentialsLookup } from "../../lib/registry/credentials.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { pullImage } from "../../lib/registry/pull.ts";
import { pushImage } from "../../lib/registry/push.ts";
import { Resolver } from "../../lib/registry/resolver.ts";
import { needsRegistry, publishImage, smallImage, Teardown } from "./support/fixtures.ts";
import { skopeo, TestRegistry } from "./support/registry.ts";
import { TokenIssuer } from "./support/token_issuer.ts";

const basic =
  "auth: htpasswd Basic: refused without or with wrong credentials, --user and config.json work";
Deno.test({
  name: basic,
  ignore: needsRegistry(basic, "htpasswd"),
  async fn() {
    const teardown = new Teardown();
    try {
      const registry = teardown.add(
        await TestRegistry.start({ kind: "htpasswd", users: { alice: "wonderland" } }),
        (it) => it.stop(),
      );
      const image = teardown.add(
        await publishImage(smallImage(3), `${registry.host}/private/app:v1`, {
          credentials: "alice:wonderland",
        }),
        (it) => it.cleanup(),
      );
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const client = teardown.add(daemon.client(), (it) => it.close());
      const configDir = teardown.add(
        await Deno.makeTempDir(),
        (it) => Deno.remove(it, { recursive: true }),
      );
      const name = `${registry.host}/private/app:v1`;
      const anonymous = await assertRejects(
        () => pullImage(client, name, { credentials: () => undefined }),
        RegistryError,
      );
      assertEquals(anonymous.kind, "unauthorized");
      assertMatch(
        anonymous.message,
        /^resolving ".*private\/app:v1" in .*: not authorized \(HTTP 401\)/,
      );
      assertMatch(
        anonymous.message,
        /--user USER:PASSWORD or an "auths" entry for 127\.0\.0\.1:\d+/,
      );

      const wrong = await daemon.ctr([
        "images",
        "pull",
        "--no-unpack",
        "--user",
        "alice:wrong",
        name,
      ]);
      assertEquals(wrong.code, 1);
      assertMatch(wrong.stderr, /^ctr: resolving .* not authorized \(HTTP 401/m);

      const right = await daemon.ctr([
        "images",
        "pull",
        "--no-unpack",
        "-u",
        "alice:wonderland",
        name,
      ]);
      assertEquals(right.code, 0, right.stderr);
      assertEquals((await client.images.get(name)).target.digest, image.root.digest);

      // A Docker config.json `auths` entry, found through DOCKER_CONFIG.
      await Deno.writeTextFile(
        join(configDir, "config.json"),
        JSON.stringify({
          auths: { [`http://${registry.host}`]: { auth: btoa("alice:wonderland") } },
        }),
      );
      const fromConfig = defaultCredentialsLookup({
        env: (variable) => variable === "DOCKER_CONFIG" ? configDir : undefined,
      });
      const otherClient = daemon.client("from-config");
      try {
        const pulled = await pullImage(otherClient, name, { credentials: fromConfig });
        assertEquals(pulled.image.target.digest, image.root.digest);
        // And back: push with the same credentials under another name.
        const pushed = await daemon.ctr([
          "images",
          "push",
          "-u",
          "alice:wonderland",
          `${registry.host}/private/copy:v2`,
          name,
        ]);
        assertEquals(pushed.code, 0, pushed.stderr);
        const inspected = JSON.parse(
          await skopeo([
            "inspect",
            "--tls-verify=false",
            "--creds",
            "alice:wonderland",
            `docker://${registry.host}/private/copy:v2`,
          ]),
        );
        assertEquals(inspected.Digest, image.root.digest);
      } finally {
        otherClient.close();
      }
    } finally {
      await teardown.run();
    }
  },
});

const token = "auth: token (Bearer) flow: anonymous pull, cached tokens, push, 401 and 403";
Deno.test({
  name: token,
  ignore: needsRegistry(token, "openssl"),
  async fn() {
    const teardown = new Teardown();
    try {
      // bob may pull and push everywhere except secret/*; anyone may pull public/*.
      const issuer = teardown.add(
        await TokenIssuer.start({ bob: "builder" }, (user, repository, actions) => {
          if (repository.startsWith("secret/")) return "forbidden";
          if (user === "bob") return actions;
          return repository.startsWith("public/")
            ? actions.filter((action) => action === "pull")
            : [];
        }),
        (it) => it.stop(),
      );
      const registry = teardown.add(
        await TestRegistry.start({
          kind: "token",
          realm: issuer.realm,
          service: issuer.service,
          issuer: issuer.issuer,
          rootCertBundle: issuer.rootCertBundle,
        }),
        (it) => it.stop(),
      );
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const client = teardown.add(daemon.client(), (it) => it.close());
      const image = teardown.add(
        await publishImage(smallImage(4), `${registry.host}/public/app:v1`, {
          credentials: "bob:builder",
        }),
        (it) => it.cleanup(),
      );
      // Anonymous pull of a public repository: one token for `repository:public/app:pull`.
      const resolver = new Resolver({ credentials: () => undefined });
      const name = `${registry.host}/public/app:v1`;
      const pulled = await pullImage(client, name, { resolver });
      assertEquals(pulled.image.target.digest, image.root.digest);
      assertEquals(resolver.authorizer.tokenRequests, 1, "one token served the whole pull");
      const lastRequest = issuer.requests.at(-1)!;
      assertEquals(lastRequest.user, undefined);
      assertEquals(lastRequest.scopes, ["repository:public/app:pull"]);
      // The cached token is reused: resolving again asks the token server nothing.
      await resolver.resolve(name);
      assertEquals(resolver.authorizer.tokenRequests, 1);

      // Anonymous push is refused by the registry (the token carries no push right).
      const anonymousPush = await assertRejects(
        () => pushImage(client, name, `${registry.host}/public/copy:v1`, { resolver }),
        RegistryError,
      );
      assertEquals(anonymousPush.kind, "unauthorized");
      assertMatch(anonymousPush.message, /HTTP 401 UNAUTHORIZED/);

      // bob pushes through mini-ctr; skopeo sees the same digest.
      const pushed = await daemon.ctr([
        "images",
        "push",
        "--user",
        "bob:builder",
        `${registry.host}/team/app:v1`,
        name,
      ]);
      assertEquals(pushed.code, 0, pushed.stderr);
      assert(
        issuer.requests.some((request) =>
          request.user === "bob" && request.scopes.includes("repository:team/app:pull,push")
        ),
        JSON.stringify(issuer.requests),
      );
      const inspected = JSON.parse(
        await skopeo([
          "inspect",
          "--tls-verify=false",
          "--creds",
          "bob:builder",
          `docker://${registry.host}/team/app:v1`,
        ]),
      );
      assertEquals(inspected.Digest, image.root.digest);

      // Wrong password: the token server says 401.
      const wrong = await assertRejects(
        () =>
          new Resolver({ credentials: () => ({ username: "bob", password: "nope" }) }).resolve(
            `${registry.host}/team/app:v1`,
          ),
        RegistryError,
      );
      assertEquals(wrong.kind, "unauthorized");
      assertMatch(wrong.message, /token server http:\/\/127\.0\.0\.1:\d+ refused user "bob"/);

      // A forbidden repository: the token server says 403.
      const forbidden = await daemon.ctr([
        "images",
        "pull",
        "--no-unpack",
        "-u",
        "bob:builder",
        `${registry.host}/secret/app:v1`,
      ]);
      assertEquals(forbidden.code, 1);
      assertMatch(
        forbidden.stderr,
        /denied user "bob" the rights repository:secret\/app:pull \(HTTP 403\)/,
      );
    } finally {
      await teardown.run();
    }
  },
});
