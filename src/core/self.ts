// How to run minidock again, the way this process was started: the shim of a detached container
// runs `minidock cleanup ID` when the container exits, with this same node and the same start
// (the startup snapshot when there is one, see src/cli/main.ts), not whatever `minidock` is on
// PATH then.
let blob: string | undefined;

/** Called once by a process started from the snapshot (it has no script in argv). */
export function startedFromSnapshot(path: string): void {
  blob = path;
}

/** The command line's start, to which a subcommand and its arguments are appended. */
export function selfCommand(): string[] {
  return blob ? [process.execPath, '--snapshot-blob', blob, '--'] : [process.execPath, '--', process.argv[1]!];
}
