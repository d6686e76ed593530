// What this teaches: how to test a client against a misbehaving network without a
// misbehaving registry. A small HTTP proxy on 127.0.0.1 sits between mini and the real
// registry and, per test, flips a byte of a blob, cuts a download off after N bytes,
// answers 503 once, redirects blob downloads elsewhere, or rewrites a manifest's type
// or size. Everything else passes through untouched.

/** Passes a request on to the registry, as received. */
export type Forward = (request: Request, pathOverride?: string) => Promise<Response>;

/** Decides what to answer; call `forward` to pass the request through. */
export type FaultHandler = (request: Request, url: URL, forward: Forward) => Promise<Response>;

/** A proxy in front of one registry. */
export class FaultProxy {
  #server?: Deno.HttpServer;
  #port = 0;
  /** The requests seen: method, path and whether they carried an Authorization header. */
  readonly seen: { method: string; path: string; authorized: boolean; range?: string }[] = [];

  private constructor(readonly target: string) {}

  /** `127.0.0.1:<port>`: use it as the registry domain in references. */
  get host(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Starts a proxy to `target` (`127.0.0.1:<registry port>`) with `handler`. */
  static async start(target: string, handler: FaultHandler): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    const forward: Forward = async (request, pathOverride) => {
      const url = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.delete("host");
      const upstream = await fetch(
        `http://${target}${pathOverride ?? url.pathname}${url.search}`,
        {
          method: request.method,
          headers,
          body: request.body,
          redirect: "manual",
        },
      );
      const responseHeaders = new Headers(upstream.headers);
      // Location headers name the registry; point them back at the proxy.
      const location = responseHeaders.get("location");
      if (location) {
        responseHeaders.set(
          "location",
          location.replace(`http://${target}`, `http://${proxy.host}`),
        );
      }
      return new Response(request.method === "HEAD" ? null : upstream.body, {
        status: upstream.status,
        headers: responseHeaders,
      });
    };
    const listening = Promise.withResolvers<void>();
    proxy.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      // A body cut on purpose is not worth a stack trace in the test output.
      onError: () => new Response("fault proxy error", { status: 500 }),
      onListen: ({ port }) => {
        proxy.#port = port;
        listening.resolve();
      },
    }, async (request) => {
      const url = new URL(request.url);
      proxy.seen.push({
        method: request.method,
        path: url.pathname,
        authorized: request.headers.has("authorization"),
        range: request.headers.get("range") ?? undefined,
      });
      return await handler(request, url, forward);
    });
    await listening.promise;
    return proxy;
  }

  async stop(): Promise<void> {
    await this.#server?.shutdown();
  }
}

/** True for `GET /v2/<repo>/blobs/<digest>` of the given digest. */
export function isBlobGet(request: Request, url: URL, digest: string): boolean {
  return request.method === "GET" && url.pathname.endsWith(`/blobs/${digest}`);
}

/** A copy of a response whose body has the byte at `position` inverted. */
export function tamperedResponse(response: Response, position: number): Response {
  let seen = 0;
  const flip = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (position >= seen && position < seen + chunk.byteLength) {
        const copy = new Uint8Array(chunk);
        copy[position - seen] ^= 0xff;
        chunk = copy;
      }
      seen += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body!.pipeThrough(flip), {
    status: response.status,
    headers: response.headers,
  });
}

/** A copy of a response that sends `limit` bytes and then breaks the connection. */
export function truncatedResponse(response: Response, limit: number): Response {
  const reader = response.body!.getReader();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const room = limit - sent;
      if (value.byteLength >= room) {
        if (room > 0) controller.enqueue(value.subarray(0, room));
        sent = limit;
        await reader.cancel();
        // Erroring the body makes the server drop the connection mid-response.
        controller.error(new Error("fault proxy: connection cut"));
        return;
      }
      sent += value.byteLength;
      controller.enqueue(value);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}
