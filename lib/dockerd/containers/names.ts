// What this teaches: where names like "focused_hopper" come from, and the rules for
// the names users choose. A container without `--name` gets an adjective and the
// surname of a scientist or engineer; after a few collisions a digit is appended. A
// chosen name must start with a letter or digit and use only letters, digits, `_`, `.`
// and `-`. dockerd stores names with a leading "/" (a leftover of the days when
// containers could be linked into each other's namespaces), so `Names` in `docker ps`
// JSON is ["/web"] while the table shows "web".
// Mirrors moby's pkg/namesgenerator (GetRandomName) and daemon/names.go
// (generateNewName, reserveName, validContainerNamePattern).

const ADJECTIVES = [
  "agile",
  "bold",
  "brave",
  "bright",
  "calm",
  "careful",
  "cheerful",
  "clever",
  "curious",
  "daring",
  "eager",
  "elegant",
  "fearless",
  "focused",
  "friendly",
  "gentle",
  "happy",
  "honest",
  "hopeful",
  "humble",
  "keen",
  "kind",
  "lucid",
  "merry",
  "modest",
  "nimble",
  "patient",
  "polite",
  "quiet",
  "quick",
  "relaxed",
  "serene",
  "sharp",
  "steady",
  "sunny",
  "tender",
  "tidy",
  "upbeat",
  "vibrant",
  "witty",
];

const SURNAMES = [
  "babbage",
  "bohr",
  "cerf",
  "curie",
  "darwin",
  "dijkstra",
  "einstein",
  "euler",
  "faraday",
  "fermi",
  "franklin",
  "galileo",
  "gauss",
  "goldberg",
  "hamilton",
  "hodgkin",
  "hopper",
  "hypatia",
  "johnson",
  "kepler",
  "knuth",
  "lamarr",
  "lovelace",
  "maxwell",
  "meitner",
  "mendel",
  "newton",
  "noether",
  "pascal",
  "pasteur",
  "perlman",
  "planck",
  "ritchie",
  "shannon",
  "somerville",
  "thompson",
  "torvalds",
  "turing",
  "wing",
  "yonath",
];

/** Allowed container names (without the leading "/"). */
export const VALID_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A random "adjective_surname"; `attempt` > 0 appends a digit, as dockerd does after collisions. */
export function randomName(attempt = 0): string {
  const pick = (words: string[]) =>
    words[crypto.getRandomValues(new Uint32Array(1))[0] % words.length];
  const name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}`;
  if (attempt === 0) return name;
  return `${name}${crypto.getRandomValues(new Uint8Array(1))[0] % 10}`;
}

/** "/web" → "web" (the API accepts both spellings). */
export function stripSlash(name: string): string {
  return name.startsWith("/") ? name.slice(1) : name;
}
