// What this teaches: a container's name is only an entry in dockerd's name registry
// pointing at its ID; `docker rename` reserves the new name, frees the old one and
// checkpoints the container. Nothing inside the container changes (its hostname was
// set from the ID, not the name).
// Mirrors moby's daemon/rename.go (ContainerRename).

import { badParameter } from "../server/errors.ts";
import type { Container } from "./container.ts";
import { stripSlash, VALID_NAME_PATTERN } from "./names.ts";
import type { ContainerService } from "./service.ts";

/** `POST /containers/{id}/rename?name=`. */
export async function renameContainer(
  service: ContainerService,
  container: Container,
  newName: string,
): Promise<void> {
  const name = stripSlash(newName);
  if (name === "") throw badParameter("Neither old nor new names may be empty");
  if (!VALID_NAME_PATTERN.test(name)) {
    throw badParameter(
      `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  if (`/${name}` === container.name) {
    throw badParameter("Renaming a container with the same name as its current name");
  }
  const oldName = container.name;
  container.name = service.store.reserveName(name, container.id);
  service.store.releaseName(oldName, container.id);
  try {
    await container.checkpoint();
  } catch (error) {
    service.store.releaseName(container.name, container.id);
    container.name = service.store.reserveName(oldName, container.id);
    throw error;
  }
}
