// Unit tests of the containerd-style filter language (lib/metadata/filters.ts), used
// by content, leases and (through the same parser) images and snapshots.

import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { parseFilters, recordLookup } from "../../lib/metadata/filters.ts";

const blob = recordLookup(
  { digest: "sha256:aaa", size: 42 },
  { "containerd.io/gc.root": "2024", env: "prod", "team.name": "a,b" },
);
const other = recordLookup({ digest: "sha256:bbb", size: 7 }, { env: "dev" });

function matches(filters: string[], lookup = blob): boolean {
  return parseFilters(filters).matches(lookup);
}

Deno.test("filters: equality, inequality, presence and regular expressions", () => {
  assert(matches(["digest==sha256:aaa"]));
  assert(!matches(["digest==sha256:aaa"], other));
  assert(matches(["size==42"]));
  assert(matches(["labels.env==prod"]));
  assert(!matches(["labels.env!=prod"]));
  assert(matches(["labels.env!=prod"], other));
  assert(matches(["labels.env"]));
  assert(!matches(["labels.missing"]));
  assert(matches(["labels.env~=^pr"]));
  assert(!matches(["labels.env~=^pr"], other));
});

Deno.test("filters: dotted and quoted label keys name the same label", () => {
  assert(matches(["labels.containerd.io/gc.root"]));
  assert(matches(['labels."containerd.io/gc.root"']));
  assert(matches(['labels."containerd.io/gc.root"==2024']));
  assert(matches(['labels."team.name"=="a,b"']), "a quoted value may contain a comma");
  assert(!matches(['labels."containerd.io/gc.root"'], other));
});

Deno.test("filters: commas are AND, several filters are OR, none matches all", () => {
  assert(matches(["labels.env==prod,size==42"]));
  assert(!matches(["labels.env==prod,size==7"]));
  assert(matches(["labels.env==nope", "size==42"]));
  assert(!matches(["labels.env==nope", "size==7"]));
  assert(matches([]));
  assert(matches([""]));
  assert(matches([" labels.env == prod "]), "spaces around tokens are ignored");
});

Deno.test("filters: syntax errors are invalid_argument with the position", () => {
  const cases = [
    "labels.env=prod",
    "labels.env==",
    "==x",
    "labels.env==a,",
    'labels."open',
    "a~=(",
  ];
  for (const text of cases) {
    const error = assertThrows(() => parseFilters([text]), ApiError);
    assertEquals(error.code, "invalid_argument", text);
    assert(error.message.includes(`filter "${text}" is invalid`), error.message);
  }
});
