// The startup snapshot. `npm run build:bundle` runs each snapshotted bundle (dist/bundle/main.cjs,
// minidock-cni.cjs) a second time, as `node --snapshot-blob X.blob --build-snapshot X.cjs`:
// every module is evaluated (`warm` loads the lazily imported ones), the entry's `prepare`
// runs (the CLI defines its commands), and V8 saves the heap. The launchers (bin/minidock,
// bin/minidock-cni) start node from that heap (`node --snapshot-blob X.blob -- ARGS`), so a
// command begins where the build ended instead of reading, compiling and evaluating the bundle.
// What a snapshot must not hold is anything of the moment it was built: the environment, the
// command line, the configuration, the working directory, open files. So no module reads those
// when it loads (they read them when called), and `run` happens only in the process of the
// command itself.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startedFromSnapshot } from './self.js';
import { trace } from './trace.js';

declare let __mdkUrl: string; // the bundle's own place: esbuild's banner (package.json)

/** The end of a bundle's entry: `run` now, or, when building the snapshot, `warm` and `prepare`
 *  now and `run` in each process started from it. `bundle` is the bundle's file name. */
export function snapshotEntry(bundle: string, o: { warm: () => Promise<unknown>; prepare?: () => void; run: () => void }): void {
  if (!process.execArgv.includes('--build-snapshot')) {
    o.run();
    return;
  }
  const { startupSnapshot } = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  o.prepare?.();
  // The event loop runs dry before the heap is saved: every module warm loads is in it.
  void o.warm();
  startupSnapshot.setDeserializeMainFunction(() => {
    // The command line is node's, without a script (argv[1] is the first argument), and the
    // bundle's place is that of the blob, wherever the checkout is now.
    const blob = resolve(process.execArgv[process.execArgv.indexOf('--snapshot-blob') + 1]!);
    const file = join(dirname(blob), bundle);
    __mdkUrl = pathToFileURL(file).href;
    process.argv.splice(1, 0, file);
    startedFromSnapshot(blob);
    trace('bundle: from the startup snapshot');
    o.run();
  });
}
