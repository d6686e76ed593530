// What this teaches: the other half of Docker Hub's login flow, small enough to read.
// A token server checks the client's Basic credentials, decides which of the asked
// actions (`repository:app:pull,push`) to grant, and answers with a JWT signed by a
// key whose certificate the registry trusts (`auth.token.rootcertbundle`); the JWT's
// `x5c` header carries that certificate so the registry can find the key. The
// registry then checks signature, issuer, audience (its `service`), expiry and the
// granted `access` on every request. Runs on 127.0.0.1 for one test.

import { createSign } from "node:crypto";
import { join } from "node:path";

/** Decides what a user gets: the actions granted, or "forbidden" to answer 403. */
export type TokenPolicy = (
  user: string | undefined,
  repository: string,
  actions: string[],
) => string[] | "forbidden";

/** A token issuer with its own key and self-signed certificate. */
export class TokenIssuer {
  readonly service = "mini-test-registry";
  readonly issuer = "mini-test-token-issuer";
  /** Every token request received: who asked, for what. */
  readonly requests: { user?: string; scopes: string[] }[] = [];
  #server?: Deno.HttpServer;
  #port = 0;

  private constructor(
    readonly directory: string,
    private readonly privateKeyPem: string,
    private readonly certificateDerBase64: string,
    private readonly users: Record<string, string>,
    private readonly policy: TokenPolicy,
  ) {}

  /** Where the registry sends clients for tokens. */
  get realm(): string {
    return `http://127.0.0.1:${this.#port}/token`;
  }

  /** The certificate bundle the registry must trust. */
  get rootCertBundle(): string {
    return join(this.directory, "cert.pem");
  }

  /** Creates a key and certificate with openssl and starts serving on 127.0.0.1. */
  static async start(users: Record<string, string>, policy: TokenPolicy): Promise<TokenIssuer> {
    const directory = await Deno.makeTempDir({ prefix: "mini-token-issuer-" });
    const output = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(directory, "key.pem"),
        "-out",
        join(directory, "cert.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=mini-test-token-issuer",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`openssl failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    const certificatePem = await Deno.readTextFile(join(directory, "cert.pem"));
    const derBase64 = certificatePem
      .replace(/-----(BEGIN|END) CERTIFICATE-----/g, "")
      .replace(/\s+/g, "");
    const issuer = new TokenIssuer(
      directory,
      await Deno.readTextFile(join(directory, "key.pem")),
      derBase64,
      users,
      policy,
    );
    const listening = Promise.withResolvers<void>();
    issuer.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => {
        issuer.#port = port;
        listening.resolve();
      },
    }, (request) => issuer.#handle(request));
    await listening.promise;
    return issuer;
  }

  #handle(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname !== "/token") return new Response("not found", { status: 404 });
    let user: string | undefined;
    const authorization = request.headers.get("authorization");
    if (authorization) {
      const [scheme, encoded] = authorization.split(" ");
      const decoded = scheme === "Basic" ? atob(encoded ?? "") : "";
      const colon = decoded.indexOf(":");
      const name = decoded.slice(0, colon);
      if (colon <= 0 || this.users[name] !== decoded.slice(colon + 1)) {
        return Response.json({ details: "invalid username or password" }, { status: 401 });
      }
      user = name;
    }
    const scopes = url.searchParams.getAll("scope");
    this.requests.push({ user, scopes });
    const access: { type: string; name: string; actions: string[] }[] = [];
    for (const scope of scopes.flatMap((value) => value.split(" "))) {
      const [type, ...rest] = scope.split(":");
      const actions = (rest.pop() ?? "").split(",").filter((action) => action !== "");
      const name = rest.join(":");
      if (type !== "repository") continue;
      const granted = this.policy(user, name, actions);
      if (granted === "forbidden") {
        return Response.json({ details: `access to ${name} is forbidden` }, { status: 403 });
      }
      access.push({ type, name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const token = this.#sign({
      iss: this.issuer,
      sub: user ?? "",
      aud: url.searchParams.get("service") ?? this.service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    });
    return Response.json({ token, expires_in: 300, issued_at: new Date().toISOString() });
  }

  /** An RS256 JWT whose header carries the signing certificate (`x5c`). */
  #sign(claims: Record<string, unknown>): string {
    const header = { typ: "JWT", alg: "RS256", x5c: [this.certificateDerBase64] };
    const encode = (value: unknown) => base64Url(new TextEncoder().encode(JSON.stringify(value)));
    const signingInput = `${encode(header)}.${encode(claims)}`;
    const signature = createSign("RSA-SHA256").update(signingInput).sign(this.privateKeyPem);
    return `${signingInput}.${base64Url(signature)}`;
  }

  /** Stops serving and removes the key material. */
  async stop(): Promise<void> {
    await this.#server?.shutdown();
    await Deno.remove(this.directory, { recursive: true }).catch(() => {});
  }
}

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
