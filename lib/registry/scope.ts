// What this teaches: a Bearer token is issued for named rights, its "scope":
// `repository:<path>:<action>[,<action>]`, e.g. `repository:library/busybox:pull`.
// A pull asks for `pull`, a push for `pull,push`, and a cross-repository mount also
// for `pull` on the repository the blob is mounted from. Scopes for the same
// repository are merged into one entry so one token covers the whole request.
// Mirrors containerd's `core/remotes/docker/scope.go`.

/** The scope a request on `path` needs. */
export function repositoryScope(path: string, actions: ("pull" | "push")[]): string {
  return `repository:${path}:${actions.join(",")}`;
}

/**
 * Merges scopes: the same resource's actions are united, duplicates dropped, and the
 * result sorted, so equal sets of rights give equal strings (the token cache key).
 */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const actionsByResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    for (const single of scope.split(" ").filter((part) => part !== "")) {
      const lastColon = single.lastIndexOf(":");
      if (lastColon <= 0) {
        actionsByResource.set(single, actionsByResource.get(single) ?? new Set());
        continue;
      }
      const resource = single.slice(0, lastColon);
      const actions = actionsByResource.get(resource) ?? new Set<string>();
      for (const action of single.slice(lastColon + 1).split(",")) {
        if (action !== "") actions.add(action);
      }
      actionsByResource.set(resource, actions);
    }
  }
  return [...actionsByResource.entries()]
    .map(([resource, actions]) =>
      actions.size === 0 ? resource : `${resource}:${[...actions].sort().join(",")}`
    )
    .sort();
}
