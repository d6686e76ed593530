// What this teaches: how `--restart` decides, after every exit, whether and when to
// start a container again. The policy says whether: `no` never, `always` always,
// `unless-stopped` unless a user stopped it, `on-failure[:N]` for a non-zero exit (at
// most N times). The backoff says when: 100 ms after the first exit, doubling after
// each quick exit up to one minute, back to 100 ms once a run lasted 10 seconds, so a
// crash-looping container does not eat the machine. `docker stop` and `docker kill`
// cancel the manager, so the exit they cause is final; the next `docker start` gets a
// fresh one. The restart count survives daemon restarts (it is in config.v2.json).
// Mirrors moby's restartmanager/restartmanager.go (ShouldRestart, Cancel).

import type { RestartPolicy } from "./types.ts";

const BACKOFF_MULTIPLIER = 2;
const DEFAULT_TIMEOUT_MS = 100;
const MAX_RESTART_TIMEOUT_MS = 60_000;
/** A run at least this long resets the backoff. */
const RESET_AFTER_MS = 10_000;

/** Thrown by a restart wait that was cancelled (a stop or kill came first). */
export class RestartCanceledError extends Error {
  constructor() {
    super("restart canceled");
    this.name = "RestartCanceledError";
  }
}

/** The outcome of shouldRestart(): restart after `wait` resolves (it rejects if cancelled). */
export type RestartDecision = { restart: false } | { restart: true; wait: Promise<void> };

/** Validates a restart policy as dockerd does at create time; returns an error message or undefined. */
export function validateRestartPolicy(policy: RestartPolicy): string | undefined {
  switch (policy.Name) {
    case "":
    case "no":
    case "always":
    case "unless-stopped":
      if (policy.MaximumRetryCount !== 0) {
        return `maximum retry count cannot be used with restart policy '${policy.Name}'`;
      }
      return undefined;
    case "on-failure":
      if (policy.MaximumRetryCount < 0) {
        return "maximum retry count cannot be negative";
      }
      return undefined;
    default:
      return `invalid restart policy '${policy.Name}'`;
  }
}

/** The restart decisions for one container, from one start to the next. */
export class RestartManager {
  #timeoutMs = 0;
  #active = false;
  #canceled = false;
  readonly #cancel = Promise.withResolvers<void>();

  constructor(private policy: RestartPolicy, public restartCount: number) {
    this.#cancel.promise.catch(() => {});
  }

  /** Replaces the policy (`docker update --restart`). */
  setPolicy(policy: RestartPolicy): void {
    this.policy = policy;
  }

  /** The delay the next restart will wait (for tests and logs). */
  get currentDelayMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Decides after an exit: `exitCode` of the run that lasted `runMs`;
   * `manuallyStopped` when a user stopped it (or the daemon is shutting down).
   */
  shouldRestart(exitCode: number, manuallyStopped: boolean, runMs: number): RestartDecision {
    const name = this.policy.Name;
    if (name === "" || name === "no") return { restart: false };
    if (this.#canceled) return { restart: false };
    if (this.#active) return { restart: false };
    if (runMs >= RESET_AFTER_MS) this.#timeoutMs = 0;
    if (this.#timeoutMs === 0) this.#timeoutMs = DEFAULT_TIMEOUT_MS;
    else if (this.#timeoutMs < MAX_RESTART_TIMEOUT_MS) this.#timeoutMs *= BACKOFF_MULTIPLIER;
    if (this.#timeoutMs > MAX_RESTART_TIMEOUT_MS) this.#timeoutMs = MAX_RESTART_TIMEOUT_MS;

    let restart = false;
    if (name === "always") restart = true;
    else if (name === "unless-stopped") restart = !manuallyStopped;
    else if (name === "on-failure") {
      const max = this.policy.MaximumRetryCount;
      if (max === 0 || this.restartCount < max) restart = exitCode !== 0;
    }
    if (!restart) return { restart: false };

    this.restartCount++;
    this.#active = true;
    const delay = this.#timeoutMs;
    const wait = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#active = false;
        resolve();
      }, delay);
      this.#cancel.promise.then(() => {
        clearTimeout(timer);
        reject(new RestartCanceledError());
      });
    });
    wait.catch(() => {});
    return { restart: true, wait };
  }

  /** Stops any pending restart and refuses every later one (a user stop or kill). */
  cancel(): void {
    if (this.#canceled) return;
    this.#canceled = true;
    this.#cancel.resolve();
  }

  /** True once cancel() was called. */
  get canceled(): boolean {
    return this.#canceled;
  }
}
