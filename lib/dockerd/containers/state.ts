// What this teaches: a Docker container's life as a small state machine, and why
// `docker run` needs three different ways to wait for it. The daemon moves a container
// between created → running → (restarting →) exited, marks it "removing" and finally
// removed; every move is written to config.v2.json so a restarted daemon knows where
// each container was. Waiters ask different questions: `docker wait` wants "tell me
// the exit code once it is not running" (answered at once for a stopped container),
// `docker run` wants "the *next* exit" (it waits before it even starts the container),
// and `docker run --rm` wants "once it is removed", so the exit code arrives only after
// the auto-removal finished and nothing is left behind.
// Mirrors moby's container/state.go (State, SetRunning, SetStopped, SetRestarting,
// Wait with WaitConditionNotRunning/NextExit/Removed, String, StateString).

import { humanDuration } from "../../units/mod.ts";
import { isZeroTime, nowTimestamp, timestampMillis, ZERO_TIME } from "./time.ts";
import type { ContainerStatus, ExitStatus, StateJson, WaitCondition, WaitResult } from "./types.ts";

/** The state of one container, with the waiters of its next stop and its removal. */
export class ContainerState {
  running = false;
  paused = false;
  restarting = false;
  oomKilled = false;
  removalInProgress = false;
  dead = false;
  pid = 0;
  exitCode = 0;
  error = "";
  startedAt = ZERO_TIME;
  finishedAt = ZERO_TIME;
  /** Resolved (and replaced) every time the container stops or goes to "restarting". */
  #stopped = Promise.withResolvers<void>();
  /** Resolved once, when the container is removed. */
  readonly #removed = Promise.withResolvers<void>();
  #isRemoved = false;

  /** Restores a state read from config.v2.json. */
  static fromJson(json: Partial<StateJson> | undefined): ContainerState {
    const state = new ContainerState();
    if (!json) return state;
    state.running = json.Running ?? false;
    state.paused = json.Paused ?? false;
    state.restarting = json.Restarting ?? false;
    state.oomKilled = json.OOMKilled ?? false;
    state.dead = json.Dead ?? false;
    state.removalInProgress = json.RemovalInProgress ?? false;
    state.pid = json.Pid ?? 0;
    state.exitCode = json.ExitCode ?? 0;
    state.error = json.Error ?? "";
    state.startedAt = json.StartedAt || ZERO_TIME;
    state.finishedAt = json.FinishedAt || ZERO_TIME;
    return state;
  }

  /** The State block of `docker inspect`; `forDisk` adds RemovalInProgress. */
  toJson(forDisk = false): StateJson {
    const json: StateJson = {
      Status: this.status(),
      Running: this.running,
      Paused: this.paused,
      Restarting: this.restarting,
      OOMKilled: this.oomKilled,
      Dead: this.dead,
      Pid: this.pid,
      ExitCode: this.exitCode,
      Error: this.error,
      StartedAt: this.startedAt,
      FinishedAt: this.finishedAt,
    };
    if (forDisk) json.RemovalInProgress = this.removalInProgress;
    return json;
  }

  /** One word for the state (`docker ps` State column, `--filter status=`). */
  status(): ContainerStatus {
    if (this.running) {
      if (this.paused) return "paused";
      if (this.restarting) return "restarting";
      return "running";
    }
    if (this.removalInProgress) return "removing";
    if (this.dead) return "dead";
    if (isZeroTime(this.startedAt)) return "created";
    return "exited";
  }

  /** The Status column of `docker ps`: "Up 3 seconds", "Exited (0) 2 seconds ago"... */
  humanStatus(now = Date.now()): string {
    if (this.running) {
      if (this.paused) return `Up ${humanDuration(now - timestampMillis(this.startedAt))} (Paused)`;
      if (this.restarting) {
        return `Restarting (${this.exitCode}) ${
          humanDuration(now - timestampMillis(this.finishedAt))
        } ago`;
      }
      return `Up ${humanDuration(now - timestampMillis(this.startedAt))}`;
    }
    if (this.removalInProgress) return "Removal In Progress";
    if (this.dead) return "Dead";
    if (isZeroTime(this.startedAt)) return "Created";
    if (isZeroTime(this.finishedAt)) return "";
    return `Exited (${this.exitCode}) ${humanDuration(now - timestampMillis(this.finishedAt))} ago`;
  }

  /** True while the container's process runs (restarting counts, as in dockerd). */
  isRunning(): boolean {
    return this.running;
  }

  /** The container's init started with `pid`. */
  setRunning(pid: number, initial: boolean): void {
    this.error = "";
    this.running = true;
    this.restarting = false;
    this.paused = false;
    this.exitCode = 0;
    this.pid = pid;
    if (initial) this.startedAt = nowTimestamp();
  }

  /** The container stopped for good (until someone starts it). Wakes "next-exit" waiters. */
  setStopped(exit: ExitStatus): void {
    this.running = false;
    this.paused = false;
    this.restarting = false;
    this.pid = 0;
    this.finishedAt = exit.exitedAt || nowTimestamp();
    this.exitCode = exit.exitCode;
    this.oomKilled = exit.oomKilled ?? false;
    this.#wakeStopWaiters();
  }

  /**
   * The container exited and its restart policy will start it again after a delay. It
   * still counts as running (`docker ps` shows "Restarting (1) 2 seconds ago").
   */
  setRestarting(exit: ExitStatus): void {
    this.running = true;
    this.restarting = true;
    this.paused = false;
    this.pid = 0;
    this.finishedAt = exit.exitedAt || nowTimestamp();
    this.exitCode = exit.exitCode;
    this.oomKilled = exit.oomKilled ?? false;
    this.#wakeStopWaiters();
  }

  /** Records why a start failed (shown as State.Error). */
  setError(message: string): void {
    this.error = message;
  }

  /** Marks the removal as started; false when it already is (two `rm` at once). */
  setRemovalInProgress(): boolean {
    if (this.removalInProgress) return false;
    this.removalInProgress = true;
    return true;
  }

  /** A removal failed: the container stays. */
  resetRemovalInProgress(): void {
    this.removalInProgress = false;
  }

  /** A removal failed half-way: the container is dead, only `rm -f` can finish it. */
  setDead(): void {
    this.dead = true;
  }

  /** The container is gone: wakes every waiter, "removed" ones included. */
  setRemoved(): void {
    this.#isRemoved = true;
    this.#wakeStopWaiters();
    this.#removed.resolve();
  }

  #wakeStopWaiters(): void {
    const previous = this.#stopped;
    this.#stopped = Promise.withResolvers<void>();
    previous.resolve();
  }

  /**
   * Waits for `condition` and answers with the exit code (dockerd's State.Wait):
   * not-running returns at once for a container that is not running, else at its next
   * exit (a restarting one included); next-exit waits
   * for the next stop even if it is stopped now; removed waits for the removal.
   * Rejects with the abort reason when `signal` aborts (the client hung up).
   */
  async wait(condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    if (condition === "removed") {
      if (!this.#isRemoved) await abortable(this.#removed.promise, signal);
    } else if (condition === "next-exit") {
      await abortable(this.#stopped.promise, signal);
    } else if (this.running && !this.#isRemoved) {
      // As in dockerd, the next exit ends the wait even when the restart policy is about
      // to start the container again (setRestarting wakes stop waiters too).
      await abortable(this.#stopped.promise, signal);
    }
    return { StatusCode: this.exitCode, Error: this.error === "" ? null : { Message: this.error } };
  }
}

/** Races a promise against an abort signal. */
export function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
