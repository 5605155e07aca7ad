// Undo/redo for one sample session. A command knows how to apply and revert itself (both may
// talk to the server, so both are async). Commands run one at a time, in order: an undo that
// starts while the previous save is still in flight waits for it.
//
// Annotations recreated by an undo get new ids from the server; commands refer to an
// annotation through a shared `Ref` whose id is updated, so later commands still find it.

export interface Ref {
  id: string;
}

export interface Command {
  readonly name: string;
  apply(): Promise<void>;
  revert(): Promise<void>;
}

export class History {
  private past: Command[] = [];
  private future: Command[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly limit = 200) {}

  /** Run a new command and record it (clears the redo stack). Rejects if it failed. */
  run(cmd: Command): Promise<void> {
    return this.enqueue(async () => {
      await cmd.apply();
      this.past.push(cmd);
      if (this.past.length > this.limit) this.past.shift();
      this.future = [];
    });
  }

  /** Record a command whose effect already happened (e.g. a stroke saved as it ended). */
  record(cmd: Command): void {
    this.past.push(cmd);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  undo(): Promise<string | null> {
    return this.enqueue(async () => {
      const cmd = this.past.pop();
      if (!cmd) return null;
      try {
        await cmd.revert();
      } catch (e) {
        this.past.push(cmd);
        throw e;
      }
      this.future.push(cmd);
      return cmd.name;
    });
  }

  redo(): Promise<string | null> {
    return this.enqueue(async () => {
      const cmd = this.future.pop();
      if (!cmd) return null;
      try {
        await cmd.apply();
      } catch (e) {
        this.future.push(cmd);
        throw e;
      }
      this.past.push(cmd);
      return cmd.name;
    });
  }

  clear(): void {
    this.past = [];
    this.future = [];
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Resolves once every queued command finished. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined, () => undefined);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.then(() => undefined, () => undefined);
    return next;
  }
}
