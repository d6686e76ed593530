// With tracing off nothing is traced and nothing is written: a request without a trace
// header runs its handler as is, and no tracer ever becomes current. (This file runs in
// its own process, so no other test can have switched tracing on before.)

import { assert, assertEquals } from "../helpers/assert.ts";
import { Router } from "../../lib/api/server.ts";
import { currentTrace, TRACE_HEADER, tracingActive } from "../../lib/trace/mod.ts";

Deno.test("an untraced request sees no tracer and leaves tracing off", async () => {
  const router = new Router();
  let seen: unknown = "not called";
  router.add("test.v1.Probe", "Call", () => {
    seen = currentTrace();
    return { ok: true };
  });
  const response = await router.handle(
    new Request("http://mini/test.v1.Probe/Call", { method: "POST", body: "{}" }),
  );
  assertEquals(await response.json(), { ok: true });
  assertEquals(seen, undefined);
  assertEquals(tracingActive(), false);
});

Deno.test("a request whose trace header names a refused file is served untraced", async () => {
  const root = await Deno.makeTempDir({ prefix: "mini-trace-off-" });
  const victim = `${root}/victim`;
  await Deno.writeTextFile(victim, "precious\n");
  const router = new Router();
  let seen: unknown = "not called";
  router.add("test.v1.Probe", "Call", () => {
    seen = currentTrace();
    return { ok: true };
  });
  for (const file of [victim, "/etc/passwd", `/run/mini-trace/../../${victim}`]) {
    const response = await router.handle(
      new Request("http://mini/test.v1.Probe/Call", {
        method: "POST",
        body: "{}",
        headers: { [TRACE_HEADER]: `depth=1; file=${file}` },
      }),
    );
    assert(response.ok, `a hostile header must not fail the request (${file})`);
    await response.body?.cancel();
    assertEquals(seen, undefined);
  }
  assertEquals(await Deno.readTextFile(victim), "precious\n");
  await Deno.remove(root, { recursive: true });
});
