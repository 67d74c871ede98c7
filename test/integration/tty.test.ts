// run -it against a real terminal: script(1) gives the CLI a pty of its own, as a user's terminal
// would. The container gets its own pty (its /dev/console); typed input, Ctrl-C, the window size
// and resizes must all reach it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { BIN, BUSYBOX_TAR, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, shQuote, snapshot } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('tty');
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`importing busybox failed: ${imp.stderr}`);
const before = snapshot(root);
const Tty = suite('tty');
Tty.after(() => removeRoot(root));
const T = leakChecked(Tty, root, before);

/** Runs `shell` (which may call $MD, the CLI) under script(1); writes `input` chunks at the given
 *  delays. Resolves with what the terminal showed (CRs removed) and script's exit code. */
function underTerminal(shell: string, input: Array<[number, string]> = []): Promise<{ out: string; code: number | null; raw: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MINIDOCK_ROOT: root, MD: BIN };
  delete env.NODE_EXTRA_CA_CERTS;
  const p = spawn('script', ['-qfec', shell, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  for (const [ms, text] of input) setTimeout(() => p.stdin.write(text), ms);
  const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out: out.replace(/\r/g, ''), code, raw: out });
    }));
}

const inner = (cmd: string): string => shQuote(cmd);

T('the container has its own terminal, with the window size of the user\'s, following resizes', async () => {
  const r = await underTerminal(
    `stty rows 40 cols 100; (sleep 1.5; stty -F /dev/tty rows 30 cols 90) & $MD run --rm -it --network none busybox sh -c ${inner('tty; stty size; sleep 3; stty size')}`,
  );
  assert.is(r.code, 0, r.out);
  const lines = r.out.split('\n').map((l) => l.replace(/\0/g, '').trim()).filter(Boolean);
  assert.equal(lines, ['/dev/console', '40 100', '30 90']);
});

T('-it makes the user\'s terminal fully raw, as docker does: each line ends \\r\\n once, not \\r\\r\\n', async () => {
  // The container's pty turns \n into \r\n; a user's terminal left with OPOST on (libuv's raw
  // mode) would add a second \r, and programs that move the cursor with \n would garble.
  const r = await underTerminal(`$MD run --rm -it --network none busybox sh -c ${inner('printf "one\\ntwo\\n"')}`);
  assert.is(r.code, 0, r.out);
  assert.match(r.raw, /one\r\ntwo\r\n/);
  assert.not.match(r.raw, /\r\r\n/);
  // ... and back to what it was after: the shell's own output is cooked again.
  const after = await underTerminal(`$MD run --rm -it --network none busybox true; printf "x\\n"`);
  assert.match(after.raw, /x\r\n/);
  assert.not.match(after.raw, /x\r\r\n/);
});

T('typed input reaches an interactive shell, and its exit code comes back', async () => {
  const r = await underTerminal(`$MD run --rm -it --network none busybox sh`, [[1200, 'echo typed-$((6*7))\n'], [1700, 'exit 5\n']]);
  assert.is(r.code, 5, r.out);
  assert.match(r.out, /typed-42/);
});

T('Ctrl-C travels through the pty to the container', async () => {
  const r = await underTerminal(
    `$MD run --rm -it --network none busybox sh -c ${inner('trap "echo got-int; exit 3" INT; sleep 30 & wait')}`,
    [[1500, '\x03']],
  );
  assert.is(r.code, 3, r.out);
  assert.match(r.out, /got-int/);
});

T('a paste larger than the container\'s input queue arrives whole, while the container writes a lot', async () => {
  // 4096 lines of 63 characters (256 KiB) typed at once while the container sleeps: its pty's
  // input queue fills. Then it writes 1 MB before it reads. The CLI must wait for room in the
  // input queue without holding its event loop, or it never drains that output and both stall.
  const line = `${'x'.repeat(62)}\n`;
  const r = await underTerminal(`$MD run --rm -it --network none busybox sh -c ${inner('sleep 1; head -c 1000000 /dev/zero | tr "\\0" y; echo; wc -l')}`,
    [[500, line.repeat(4096)], [4000, '\x04']]);
  assert.is(r.code, 0, r.out.slice(-300));
  assert.match(r.out, /\n\s*4096\n/);
});

T('exec -it: a shell in a running container, on a terminal of its own', async () => {
  const started = mdk(root, ['run', '-d', '--network', 'none', '--name', 'shellhost', 'busybox', 'sleep', '60']);
  assert.is(started.code, 0, started.stderr);
  try {
    const r = await underTerminal(`stty rows 33 cols 77; $MD exec -it shellhost sh`, [[1200, 'tty; stty size; echo pid1=$(cat /proc/1/cmdline)\n'], [1700, 'exit 6\n']]);
    assert.is(r.code, 6, r.out);
    // The pty comes from the container's own devpts, as docker's does.
    assert.match(r.out, /\n\/dev\/pts\/0\n/);
    assert.match(r.out, /\n33 77\n/);
    assert.match(r.out, /pid1=sleep60/);
  } finally {
    mdk(root, ['rm', '-f', 'shellhost']);
  }
});

T('exec -t of a command that exits at once returns every time (its SIGCHLD is never lost)', async () => {
  const started = mdk(root, ['run', '-d', '--network', 'none', '--name', 'quick', 'busybox', 'sleep', '60']);
  assert.is(started.code, 0, started.stderr);
  try {
    // 3 in 20 hung when SIGCHLD was unblocked only after the fork: 40 runs, each with a deadline.
    for (let i = 0; i < 40; i++) {
      const env: NodeJS.ProcessEnv = { ...process.env, MINIDOCK_ROOT: root };
      const p = spawn(BIN, ['exec', '-t', 'quick', 'true'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const code = await new Promise<number | string | null>((resolve) => {
        const timer = setTimeout(() => { p.kill('SIGKILL'); resolve('hung'); }, 10_000);
        p.on('close', (c) => { clearTimeout(timer); resolve(c); });
      });
      assert.is(code, 0, `run ${i + 1}`);
    }
  } finally {
    mdk(root, ['rm', '-f', 'quick']);
  }
});

Tty.run();
