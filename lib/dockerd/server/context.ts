// What this teaches: everything an Engine API handler needs from one request: the
// path parameters (`{id}`), the query (docker's booleans are "1"/"true"/"yes", its
// filters a JSON map), the body (JSON with a size limit, or a raw stream for
// `docker load` and `docker build`), the API version the client asked for, and the
// two ways to answer (a Reply, or taking over the connection with hijack()).
// Mirrors moby's api/server/httputils (ParseForm, BoolValue, ReadJSON) and
// api/types/filters (FromJSON).

import type { IncomingMessage } from "node:http";
import { Buffer } from "node:buffer";
import { badParameter, EngineError } from "./errors.ts";
import {
  hijackedResponse,
  hijackedSocket,
  type HijackedStream,
  RAW_STREAM_MEDIA_TYPE,
  type UpgradedConnection,
} from "./hijack.ts";
import { HttpReply, type Reply, SocketReply } from "./reply.ts";
import { jsonErrorReason } from "./json.ts";

/** Largest JSON body accepted (a container create is a few kB; dockerd has no hard limit). */
export const MAX_JSON_BODY_BYTES = 4 * 1024 * 1024;

/** One request as a handler sees it. */
export class EngineRequest {
  readonly method: string;
  readonly query: URLSearchParams;
  #bodyTaken = false;
  #hijacked?: HijackedStream;

  constructor(
    readonly incoming: IncomingMessage,
    readonly reply: Reply,
    /** The path without the `/v1.41` prefix. */
    readonly path: string,
    /** The API version from the path prefix, or the daemon's own (1.41) without one. */
    readonly apiVersion: string,
    readonly params: Record<string, string>,
    query: URLSearchParams,
    /** Set for a request that came with `Connection: Upgrade` (its body and socket). */
    private readonly upgrade: UpgradedConnection | undefined,
    private readonly baseHeaders: Record<string, string>,
  ) {
    this.method = incoming.method ?? "GET";
    this.query = query;
  }

  /** A request header (lower-case name). */
  header(name: string): string | undefined {
    const value = this.incoming.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  /** True when the client asked to upgrade the connection (attach, exec start). */
  get wantsUpgrade(): boolean {
    return this.upgrade !== undefined;
  }

  /** A path parameter; throws 400 when the route has none of that name (a router bug). */
  param(name: string): string {
    const value = this.params[name];
    if (value === undefined) throw new EngineError(500, `route has no parameter ${name}`);
    return value;
  }

  /** A query string value, or undefined. */
  string(name: string): string | undefined {
    return this.query.get(name) ?? undefined;
  }

  /**
   * docker's boolean query values (httputils.BoolValue): absent, "", "0", "no",
   * "false" and "none" are false, anything else true.
   */
  bool(name: string): boolean {
    const value = this.query.get(name);
    if (value === null) return false;
    return !["", "0", "no", "false", "none"].includes(value.trim().toLowerCase());
  }

  /** An integer query value; 400 when it is not one. */
  int(name: string, fallback: number): number {
    const value = this.query.get(name);
    if (value === null || value === "") return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed)) {
      throw badParameter(`invalid ${name} value ${JSON.stringify(value)}: not an integer`);
    }
    return parsed;
  }

  /**
   * The `filters` query parameter as name → values. Both encodings docker clients send
   * are accepted: `{"dangling":{"true":true}}` and the legacy `{"dangling":["true"]}`.
   */
  filters(): Map<string, string[]> {
    const raw = this.query.get("filters");
    const filters = new Map<string, string[]>();
    if (raw === null || raw.trim() === "") return filters;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw badParameter(`invalid filter: ${jsonErrorReason(error)}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw badParameter(`invalid filter: expected a JSON object, got ${raw}`);
    }
    for (const [name, values] of Object.entries(parsed)) {
      if (Array.isArray(values)) filters.set(name, values.map(String));
      else if (typeof values === "object" && values !== null) {
        filters.set(name, Object.entries(values).filter(([, on]) => on).map(([value]) => value));
      } else throw badParameter(`invalid filter ${name}: expected a list or a map of values`);
    }
    return filters;
  }

  /** The body as bytes, refusing more than `limit` (400, and the daemon stays up). */
  async bytes(limit = MAX_JSON_BODY_BYTES): Promise<Uint8Array> {
    this.#takeBody();
    const declared = Number(this.header("content-length") ?? "0");
    if (declared > limit) {
      this.incoming.resume(); // drain without keeping it
      throw badParameter(
        `request body of ${declared} bytes is larger than the ${limit}-byte limit`,
      );
    }
    if (this.upgrade) {
      // The framework already split the body from the client's input (see hijack.ts).
      const body = await this.upgrade.body;
      if (body.byteLength > limit) {
        throw badParameter(`request body is larger than the ${limit}-byte limit`);
      }
      return body;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of this.incoming as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > limit) {
        this.incoming.resume();
        throw badParameter(`request body is larger than the ${limit}-byte limit`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  /**
   * The body decoded as JSON; an empty body gives `fallback`. Malformed JSON is a 400
   * whose message says where the parser stopped, as dockerd's "invalid character..." does.
   */
  async json<T>(fallback?: T): Promise<T> {
    const text = new TextDecoder().decode(await this.bytes());
    if (text.trim() === "") {
      if (fallback !== undefined) return fallback;
      throw badParameter("request body is empty: a JSON object was expected");
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw badParameter(`invalid JSON in request body: ${jsonErrorReason(error)}`);
    }
  }

  /** The body as a byte stream, for uploads of any size (`docker load`, `docker build`). */
  bodyStream(): ReadableStream<Uint8Array> {
    this.#takeBody();
    if (this.upgrade) {
      const body = this.upgrade.body;
      return new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(await body);
          controller.close();
        },
      });
    }
    const incoming = this.incoming;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        incoming.on("data", (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk));
          if ((controller.desiredSize ?? 1) <= 0) incoming.pause();
        });
        incoming.on("end", () => controller.close());
        incoming.on("error", (error) => controller.error(error));
        incoming.on("aborted", () => controller.error(new Error("the client aborted the upload")));
      },
      pull() {
        incoming.resume();
      },
      cancel() {
        incoming.resume();
      },
    });
  }

  #takeBody(): void {
    if (this.#bodyTaken) throw new EngineError(500, "the request body was already read");
    this.#bodyTaken = true;
  }

  /** The stream hijack() returned, if the handler took the connection over. */
  get hijacked(): HijackedStream | undefined {
    return this.#hijacked;
  }

  /**
   * Takes over the connection for a raw two-way stream (attach, exec start): answers
   * `101 UPGRADED` when the client asked to upgrade, else 200 with the raw-stream media
   * type (output only). The body, if any, is never part of the stream's input (read it
   * with json() before or after); checks that can fail belong before this call, since
   * afterwards an error can only close the connection.
   */
  hijack(): HijackedStream {
    if (this.#hijacked) throw new EngineError(500, "the connection was already hijacked");
    this.#hijacked = this.#takeOver();
    return this.#hijacked;
  }

  #takeOver(): HijackedStream {
    if (this.upgrade) {
      const reply = this.reply as SocketReply;
      reply.writeHead(101, "UPGRADED", {
        "Content-Type": RAW_STREAM_MEDIA_TYPE,
        "Connection": "Upgrade",
        "Upgrade": "tcp",
        ...this.baseHeaders,
      });
      reply.markFinished();
      return hijackedSocket(this.upgrade);
    }
    const reply = this.reply as HttpReply;
    return hijackedResponse(reply.response, this.baseHeaders);
  }
}
