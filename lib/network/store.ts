// What this teaches: what a network engine must remember across restarts, and how it
// writes it so that a crash at any moment leaves either the old or the new version:
// networks in one networks.json, each container's sandbox (namespace path, endpoints,
// published ports with proxy PIDs) in sandboxes/<id>/sandbox.json, every file replaced
// by write-to-temp + fsync + rename. On the next start the engine reads these back to
// tear down what a killed daemon left running.
// Mirrors libnetwork's datastore (store.go), which keeps the same objects in boltdb.

import { writeJsonAtomically } from "./atomic_write.ts";
import type { NetworkRecord, SandboxRecord } from "./types.ts";

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The on-disk state of the network controller under its state directory. */
export class NetworkStore {
  readonly networksPath: string;
  readonly sandboxesDir: string;

  constructor(readonly stateDir: string) {
    this.networksPath = `${stateDir}/networks.json`;
    this.sandboxesDir = `${stateDir}/sandboxes`;
    Deno.mkdirSync(this.sandboxesDir, { recursive: true });
  }

  /** Every recorded network. */
  loadNetworks(): NetworkRecord[] {
    return readJson<{ networks: NetworkRecord[] }>(this.networksPath)?.networks ?? [];
  }

  saveNetworks(networks: readonly NetworkRecord[]): void {
    writeJsonAtomically(this.networksPath, { networks });
  }

  /** The directory holding one container's sandbox record and generated files. */
  sandboxDir(containerId: string): string {
    return `${this.sandboxesDir}/${containerId}`;
  }

  /** Every recorded sandbox (a corrupt record is reported and skipped). */
  loadSandboxes(onError: (message: string) => void = () => {}): SandboxRecord[] {
    const records: SandboxRecord[] = [];
    for (const entry of Deno.readDirSync(this.sandboxesDir)) {
      if (!entry.isDirectory) continue;
      try {
        const record = readJson<SandboxRecord>(`${this.sandboxesDir}/${entry.name}/sandbox.json`);
        if (record) records.push(record);
      } catch (error) {
        onError((error as Error).message);
      }
    }
    return records;
  }

  saveSandbox(record: SandboxRecord): void {
    const directory = this.sandboxDir(record.containerId);
    Deno.mkdirSync(directory, { recursive: true });
    writeJsonAtomically(`${directory}/sandbox.json`, record);
  }

  /** Removes a sandbox's record and generated files. */
  removeSandbox(containerId: string): void {
    try {
      Deno.removeSync(this.sandboxDir(containerId), { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
