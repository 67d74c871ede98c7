// A stack of undo steps: each acquisition registers its undo right after it succeeds, and a
// failure unwinds them in reverse. Pure (the undos are whatever the caller registers).

export type Undo = () => void | Promise<void>;

export class Rollback {
  private readonly steps: Array<{ name: string; undo: Undo }> = [];

  /** Registers the undo of something just created. */
  add(name: string, undo: Undo): void {
    this.steps.push({ name, undo });
  }

  /** Forgets every undo: what was created now belongs to the container. */
  commit(): void {
    this.steps.length = 0;
  }

  /**
   * Runs the undos newest first. A failing undo does not stop the others; the failures are
   * returned so the caller can attach them to the original error instead of replacing it.
   */
  async unwind(): Promise<Error[]> {
    const failures: Error[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.undo();
      } catch (err) {
        failures.push(new Error(`undo ${step.name}: ${(err as Error).message ?? String(err)}`));
      }
    }
    return failures;
  }
}
