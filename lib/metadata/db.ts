// What this teaches: a container daemon keeps all of its metadata (namespaces,
// images, content labels, leases, snapshots, containers) in one embedded,
// transactional database, so a crash never leaves half an update behind.
// Mirrors containerd's `core/metadata/db.go`, which keeps the same data in one
// bbolt file, `meta.db`; mini uses SQLite through `node:sqlite`.

import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { invalidArgument } from "../api/errors.ts";

/** Label maps as containerd has them: string keys to string values. */
export type Labels = Record<string, string>;

/** The metadata database of one daemon, `<root>/meta.db`. */
export class MetadataDb {
  readonly sqlite: DatabaseSync;
  #transactionDepth = 0;

  constructor(readonly path: string) {
    this.sqlite = new DatabaseSync(path);
    // WAL keeps readers unblocked while a write commits; FULL sync makes a commit
    // durable before the API answers, like bbolt's fsync on every transaction.
    this.sqlite.exec("PRAGMA journal_mode = WAL");
    this.sqlite.exec("PRAGMA synchronous = FULL");
    this.sqlite.exec("PRAGMA foreign_keys = ON");
    this.ensureSchema(`
      CREATE TABLE IF NOT EXISTS namespaces (
        name TEXT PRIMARY KEY,
        labels TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `);
  }

  /**
   * Creates a component's tables if they are missing. Each store (images, content,
   * leases, snapshots, ...) owns its tables and calls this from its constructor;
   * every namespaced table has a `namespace` column, which is what lets the
   * namespace store refuse to delete a namespace that still holds something.
   */
  ensureSchema(sql: string): void {
    this.sqlite.exec(sql);
  }

  /** Runs `work` in one write transaction; a throw rolls everything back. Nested calls join the outer one. */
  transaction<T>(work: () => T): T {
    if (this.#transactionDepth > 0) return work();
    this.sqlite.exec("BEGIN IMMEDIATE");
    this.#transactionDepth++;
    try {
      const result = work();
      this.sqlite.exec("COMMIT");
      return result;
    } catch (error) {
      this.sqlite.exec("ROLLBACK");
      throw error;
    } finally {
      this.#transactionDepth--;
    }
  }

  /** Runs a statement, returning the number of changed rows. */
  run(sql: string, ...parameters: SQLInputValue[]): number {
    return Number(this.sqlite.prepare(sql).run(...parameters).changes);
  }

  /** Returns every row of a query. */
  all<Row>(sql: string, ...parameters: SQLInputValue[]): Row[] {
    return this.sqlite.prepare(sql).all(...parameters) as Row[];
  }

  /** Returns the first row of a query, or undefined. */
  get<Row>(sql: string, ...parameters: SQLInputValue[]): Row | undefined {
    return this.sqlite.prepare(sql).get(...parameters) as Row | undefined;
  }

  /** Names of the tables that are scoped by a `namespace` column. */
  namespacedTables(): string[] {
    const tables = this.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'namespaces'",
    );
    return tables
      .filter(({ name }) =>
        this.all<{ name: string }>(`PRAGMA table_info("${name}")`).some((column) =>
          column.name === "namespace"
        )
      )
      .map(({ name }) => name);
  }

  close(): void {
    this.sqlite.close();
  }
}

/** The current time as an RFC 3339 string, the way containerd timestamps records. */
export function now(): string {
  return new Date().toISOString();
}

/** Parses a JSON labels column. */
export function parseLabels(text: string | null | undefined): Labels {
  return text ? JSON.parse(text) as Labels : {};
}

/**
 * Validates a label set the way containerd does (`pkg/labels`): keys and values
 * are strings and each key+value pair stays under 4096 bytes.
 */
export function validateLabels(labels: unknown): Labels {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== "object" || Array.isArray(labels)) {
    throw invalidArgument("labels must be an object of string keys to string values");
  }
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== "string") throw invalidArgument(`label ${key} must have a string value`);
    if (key.length === 0) throw invalidArgument("label keys must not be empty");
    if (key.length + value.length > 4096) {
      throw invalidArgument(`label ${key} is longer than 4096 bytes with its value`);
    }
  }
  return labels as Labels;
}
