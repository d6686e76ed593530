// What this teaches: a registry does not say up front how to log in; it refuses a
// request with `401 Unauthorized` and a `WWW-Authenticate` header naming the scheme
// and its parameters, e.g.
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
//          scope="repository:library/busybox:pull"
// The client parses that challenge and answers it (RFC 7235 syntax).
// Mirrors containerd's `core/remotes/docker/auth/parse.go`.

/** One authentication challenge: a scheme and its parameters (names lowercased). */
export interface Challenge {
  scheme: "basic" | "bearer" | string;
  parameters: Record<string, string>;
}

const tokenCharacter = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses a `WWW-Authenticate` value into its challenges. Several challenges may share
 * one header (and Deno joins repeated headers with ", "), so a bare token followed by
 * a space starts a new challenge while `name=value` continues the current one.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let position = 0;

  const skip = (pattern: RegExp) => {
    while (position < header.length && pattern.test(header[position])) position++;
  };
  const readToken = () => {
    const start = position;
    while (position < header.length && tokenCharacter.test(header[position])) position++;
    return header.slice(start, position);
  };
  const readQuoted = () => {
    position++; // the opening quote
    let value = "";
    while (position < header.length && header[position] !== '"') {
      if (header[position] === "\\" && position + 1 < header.length) position++;
      value += header[position++];
    }
    position++; // the closing quote
    return value;
  };

  while (position < header.length) {
    skip(/[\s,]/);
    const token = readToken();
    if (token === "") {
      position++; // stray character: ignore it rather than loop forever
      continue;
    }
    skip(/\s/);
    if (header[position] === "=" && challenges.length > 0) {
      position++;
      skip(/\s/);
      const value = header[position] === '"' ? readQuoted() : readToken();
      challenges[challenges.length - 1].parameters[token.toLowerCase()] = value;
    } else {
      challenges.push({ scheme: token.toLowerCase(), parameters: {} });
    }
  }
  return challenges;
}
