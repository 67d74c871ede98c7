// A short run of bench/soak.mjs (the 500-cycle soak is a benchmark): run --rm and
// run -d/exec/stop/rm cycles leave every counter (veths, tagged rules, leases, port leases,
// mounts, state entries, names, the host's open files, SUnreclaim) where it started.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO, requireRootAndImages } from '../helpers/cli.js';

requireRootAndImages();

test('30 run/rm cycles bring every counter back to where it started', () => {
  const out = join(tmpdir(), `mdk-soak-${process.pid}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const r = spawnSync(process.execPath, [join(REPO, 'bench/soak.mjs'), '--cycles', '30', '--every', '10', '--counters-only', '--json', out], {
    env, encoding: 'utf8', timeout: 240_000,
  });
  try {
    assert.is(r.status, 0, r.stdout + r.stderr);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(result.leaked, []);
    assert.is(result.samples.length, 3);
    for (const s of result.samples) {
      for (const k of ['links', 'rules', 'leases', 'ports', 'mounts', 'containers', 'names']) assert.is(s[k], result.base[k], `${k} at cycle ${s.cycle}`);
    }
    assert.ok(result.openFilesOk, 'the host\'s open files came back');
  } finally {
    rmSync(out, { force: true });
  }
});

test.run();
