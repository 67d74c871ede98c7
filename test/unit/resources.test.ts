// Unit tests for src/spec/resources.ts: docker's size, CPU, cpuset and pids flag parsing and
// the daemon's validations, for run and update.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectUsageError, usageMessage } from '../helpers/usage-error.js';
import {
  MIN_MEMORY,
  mergeResources,
  parseCpuList,
  parseNanoCpus,
  parseResources,
  ramInBytes,
  type ResourceFlags,
} from '../../src/spec/resources.js';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;
const HOST = { cpus: 2 };
const parse = (flags: ResourceFlags, mode: 'run' | 'update' = 'run') => parseResources(flags, HOST, mode);

// ---------------------------------------------------------------- ramInBytes (go-units)

const sizes: Array<[string, number]> = [
  ['0', 0],
  ['100', 100],
  ['100b', 100],
  ['100B', 100],
  ['512k', 512 * K],
  ['512K', 512 * K],
  ['512kb', 512 * K],
  ['512KiB', 512 * K],
  ['64m', 64 * M],
  ['64M', 64 * M],
  ['64mb', 64 * M],
  ['64MB', 64 * M],
  ['64mib', 64 * M],
  ['64MiB', 64 * M],
  ['1g', G],
  ['1G', G],
  ['1.5g', 1.5 * G],
  ['1.5k', 1536],
  ['0.5m', 512 * K],
  ['.5m', 512 * K],
  ['5.m', 5 * M],
  ['1 g', G],
  ['64 ', 64],
  ['1e3', 1000],
  ['1e3k', 1000 * K],
  ['+64m', 64 * M],
  ['2t', 2 * 1024 * G],
  ['1p', 1024 * 1024 * G],
  // a fraction of a byte is truncated, as Go's int64() does
  ['1.7', 1],
  ['0.001k', 1],
];
for (const [text, bytes] of sizes) {
  test(`ramInBytes(${JSON.stringify(text)}) = ${bytes}`, () => {
    assert.equal(ramInBytes(text), { bytes });
  });
}

const badSizes: Array<[string, string]> = [
  ['', "invalid size: ''"],
  ['m', "invalid size: 'm'"],
  ['abc', "invalid size: 'abc'"],
  ['-1', "invalid size: '-1'"],
  ['-64m', "invalid size: '-64m'"],
  ['1..5m', "invalid size: '1..5m'"],
  ['1.2.3', "invalid size: '1.2.3'"],
  ['0x10', "invalid size: '0x10'"],
  ['64x', "invalid suffix: 'x'"],
  ['64mm', "invalid suffix: 'mm'"],
  ['64bb', "invalid suffix: 'bb'"],
  ['64ib', "invalid suffix: 'ib'"],
  ['64mbb', "invalid suffix: 'mbb'"],
  ['64mxb', "invalid suffix: 'mxb'"],
  ['64e', "invalid suffix: 'e'"],
  ['64 mb b', "invalid suffix: 'mb b'"],
  ['64  m', "invalid suffix: ' m'"],
  ['inf', "invalid size: 'inf'"],
  ['99999999p', "size '99999999p' is too large"],
];
for (const [text, error] of badSizes) {
  test(`ramInBytes(${JSON.stringify(text)}) fails: ${error}`, () => {
    assert.equal(ramInBytes(text), { error });
  });
}

// ---------------------------------------------------------------- --memory / --memory-swap

test('--memory alone: swap defaults to twice the memory (docker)', () => {
  assert.equal(parse({ memory: '64m' }), { memory: 64 * M, memorySwap: 128 * M });
});

test('--memory with --memory-swap', () => {
  assert.equal(parse({ memory: '64m', memorySwap: '128m' }), { memory: 64 * M, memorySwap: 128 * M });
  assert.equal(parse({ memory: '64m', memorySwap: '64m' }), { memory: 64 * M, memorySwap: 64 * M });
  assert.equal(parse({ memory: '64m', memorySwap: '-1' }), { memory: 64 * M, memorySwap: -1 });
  // 0 is "not set", so the default applies
  assert.equal(parse({ memory: '64m', memorySwap: '0' }), { memory: 64 * M, memorySwap: 128 * M });
});

test('--memory 0 is no limit; --memory-swap -1 alone is accepted', () => {
  assert.equal(parse({ memory: '0' }), {});
  assert.equal(parse({ memorySwap: '-1' }), { memorySwap: -1 });
  assert.equal(parse({}), {});
});

test('the 6 MiB floor', () => {
  assert.equal(parse({ memory: '6m' }).memory, MIN_MEMORY);
  const err = expectUsageError(() => parse({ memory: '6291455' }));
  assert.is(err.message, 'Minimum memory limit allowed is 6MB');
  assert.ok(err.hint?.includes('6m'));
  assert.is(usageMessage(() => parse({ memory: '4m' })), 'Minimum memory limit allowed is 6MB');
  assert.is(usageMessage(() => parse({ memory: '1b' })), 'Minimum memory limit allowed is 6MB');
});

test('malformed sizes name the flag as docker does', () => {
  assert.is(usageMessage(() => parse({ memory: '64x' })), `invalid argument "64x" for "-m, --memory" flag: invalid suffix: 'x'`);
  assert.is(usageMessage(() => parse({ memory: '' })), `invalid argument "" for "-m, --memory" flag: invalid size: ''`);
  assert.is(usageMessage(() => parse({ memory: '-1' })), `invalid argument "-1" for "-m, --memory" flag: invalid size: '-1'`);
  assert.is(
    usageMessage(() => parse({ memory: '64m', memorySwap: '-2' })),
    `invalid argument "-2" for "--memory-swap" flag: invalid size: '-2'`,
  );
  assert.ok(expectUsageError(() => parse({ memory: 'lots' })).hint?.includes('64m'));
});

test('--memory-swap below --memory', () => {
  assert.is(
    usageMessage(() => parse({ memory: '64m', memorySwap: '32m' })),
    'Minimum memoryswap limit should be larger than memory limit, see usage',
  );
});

test('--memory-swap without --memory: an error at run, fine for update', () => {
  assert.is(
    usageMessage(() => parse({ memorySwap: '128m' })),
    'You should always set the Memory limit when using Memoryswap limit, see usage',
  );
  assert.equal(parse({ memorySwap: '128m' }, 'update'), { memorySwap: 128 * M });
  // update never invents a swap default
  assert.equal(parse({ memory: '64m' }, 'update'), { memory: 64 * M });
});

// ---------------------------------------------------------------- --cpus

const cpus: Array<[string, number | undefined]> = [
  ['0.5', 500_000_000],
  ['.5', 500_000_000],
  ['1', 1_000_000_000],
  ['2', 2_000_000_000],
  ['2.00', 2_000_000_000],
  ['0.01', 10_000_000],
  ['0.1', 100_000_000],
  ['1.000000001', 1_000_000_001],
  ['1e-1', 100_000_000],
  ['15e-1', 1_500_000_000],
  ['3/2', 1_500_000_000],
  ['+1.5', 1_500_000_000],
  // 0 = no limit, as docker
  ['0', undefined],
  ['0.0', undefined],
];
for (const [text, nano] of cpus) {
  test(`--cpus ${text}`, () => {
    assert.is(parse({ cpus: text }).nanoCpus, nano);
  });
}

test('--cpus out of range: docker\'s message with the host\'s count', () => {
  const msg = 'range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available';
  for (const v of ['3', '2.000000001', '-1', '0.001', '0.009999999', '1e10']) assert.is(usageMessage(() => parse({ cpus: v })), msg);
  assert.is(usageMessage(() => parseResources({ cpus: '9' }, { cpus: 8 })), 'range of CPUs is from 0.01 to 8.00, as there are only 8 CPUs available');
  assert.ok(expectUsageError(() => parse({ cpus: '3' })).hint?.includes('between 0.01 and 2'));
});

test('--cpus malformed or too precise', () => {
  assert.is(usageMessage(() => parse({ cpus: 'abc' })), 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number');
  assert.is(usageMessage(() => parse({ cpus: '' })), 'invalid argument "" for "--cpus" flag: failed to parse  as a rational number');
  assert.is(usageMessage(() => parse({ cpus: '1/0' })), 'invalid argument "1/0" for "--cpus" flag: failed to parse 1/0 as a rational number');
  assert.is(usageMessage(() => parse({ cpus: '1.5.2' })), 'invalid argument "1.5.2" for "--cpus" flag: failed to parse 1.5.2 as a rational number');
  assert.is(usageMessage(() => parse({ cpus: '0.0000000001' })), 'invalid argument "0.0000000001" for "--cpus" flag: value is too precise');
  assert.is(usageMessage(() => parse({ cpus: '1/3' })), 'invalid argument "1/3" for "--cpus" flag: value is too precise');
});

test('parseNanoCpus is exact (no float rounding)', () => {
  assert.equal(parseNanoCpus('0.3'), { nano: 300_000_000n });
  assert.equal(parseNanoCpus('1e-9'), { nano: 1n });
  assert.equal(parseNanoCpus('1e-10'), { error: 'value is too precise' });
  assert.equal(parseNanoCpus('1e-1000'), { error: 'value is too precise' });
});

// ---------------------------------------------------------------- --cpu-shares

test('--cpu-shares', () => {
  assert.is(parse({ cpuShares: '512' }).cpuShares, 512);
  assert.is(parse({ cpuShares: '2' }).cpuShares, 2);
  assert.is(parse({ cpuShares: '262144' }).cpuShares, 262144);
  assert.is(parse({ cpuShares: '0' }).cpuShares, undefined);
  assert.is(usageMessage(() => parse({ cpuShares: '1' })), "invalid --cpu-shares 1: the kernel's range is 2 to 262144");
  assert.is(usageMessage(() => parse({ cpuShares: '-5' })), "invalid --cpu-shares -5: the kernel's range is 2 to 262144");
  assert.is(usageMessage(() => parse({ cpuShares: '262145' })), "invalid --cpu-shares 262145: the kernel's range is 2 to 262144");
  assert.is(
    usageMessage(() => parse({ cpuShares: 'lots' })),
    'invalid argument "lots" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "lots": invalid syntax',
  );
  assert.is(
    usageMessage(() => parse({ cpuShares: '1.5' })),
    'invalid argument "1.5" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "1.5": invalid syntax',
  );
});

// ---------------------------------------------------------------- --cpuset-cpus

test('--cpuset-cpus accepted forms are kept as written', () => {
  for (const v of ['0', '1', '0-1', '0,1', '1,0', '0-0', '0-1,1', '01']) assert.is(parse({ cpusetCpus: v }).cpusetCpus, v);
  assert.is(parse({ cpusetCpus: '' }).cpusetCpus, undefined);
  assert.is(parseResources({ cpusetCpus: '0-2,4' }, { cpus: 8 }).cpusetCpus, '0-2,4');
});

test('--cpuset-cpus malformed', () => {
  for (const v of ['a', '0-', '-1', '1-0', '0,,1', '0,', ' 0', '0-1-2', '+1', '0 1']) {
    assert.is(usageMessage(() => parse({ cpusetCpus: v })), `Invalid value ${v} for cpuset cpus: invalid format: ${v}`, v);
  }
});

test('--cpuset-cpus beyond the host', () => {
  assert.is(usageMessage(() => parse({ cpusetCpus: '0-5' })), 'Requested CPUs are not available - requested 0-5, available: 0-1');
  assert.is(usageMessage(() => parse({ cpusetCpus: '2' })), 'Requested CPUs are not available - requested 2, available: 0-1');
  assert.is(usageMessage(() => parseResources({ cpusetCpus: '1' }, { cpus: 1 })), 'Requested CPUs are not available - requested 1, available: 0');
  // a huge range is refused without being expanded
  assert.is(usageMessage(() => parse({ cpusetCpus: '0-99999999999' })), 'Requested CPUs are not available - requested 0-99999999999, available: 0-1');
});

test('parseCpuList returns the ranges', () => {
  assert.equal(parseCpuList('0-2,4'), [[0, 2], [4, 4]]);
  assert.is(parseCpuList('2-1'), undefined);
});

// ---------------------------------------------------------------- --pids-limit

test('--pids-limit', () => {
  assert.is(parse({ pidsLimit: '100' }).pidsLimit, 100);
  assert.is(parse({ pidsLimit: '0' }).pidsLimit, 0);
  assert.is(parse({ pidsLimit: '-1' }).pidsLimit, -1);
  assert.is(
    usageMessage(() => parse({ pidsLimit: '10k' })),
    'invalid argument "10k" for "--pids-limit" flag: strconv.ParseInt: parsing "10k": invalid syntax',
  );
  assert.is(
    usageMessage(() => parse({ pidsLimit: '99999999999999999999' })),
    'invalid argument "99999999999999999999" for "--pids-limit" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range',
  );
});

test('everything at once', () => {
  assert.equal(parse({ memory: '64m', memorySwap: '128m', cpus: '0.5', cpuShares: '512', cpusetCpus: '0-1', pidsLimit: '100' }), {
    memory: 64 * M,
    memorySwap: 128 * M,
    nanoCpus: 500_000_000,
    cpuShares: 512,
    cpusetCpus: '0-1',
    pidsLimit: 100,
  });
});

// ---------------------------------------------------------------- mergeResources (update)

test('update merges changes into the current resources', () => {
  const cur = parse({ memory: '64m', cpus: '0.5', pidsLimit: '100' });
  assert.equal(mergeResources(cur, parse({ cpus: '1' }, 'update')), { ...cur, nanoCpus: 1_000_000_000 });
  assert.equal(mergeResources(cur, parse({ memory: '100m' }, 'update')), { ...cur, memory: 100 * M });
  assert.equal(mergeResources(cur, parse({ memory: '256m', memorySwap: '512m' }, 'update')), { ...cur, memory: 256 * M, memorySwap: 512 * M });
  assert.equal(mergeResources(cur, parse({ pidsLimit: '-1' }, 'update')), { ...cur, pidsLimit: -1 });
});

test('update: memory above the swap limit in force needs --memory-swap (docker)', () => {
  const cur = parse({ memory: '300m' }); // swap 600m
  assert.is(
    usageMessage(() => mergeResources(cur, parse({ memory: '800m' }, 'update'))),
    'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time',
  );
  // unlimited or unset swap has nothing to conflict with (docker refuses these too)
  assert.equal(mergeResources(parse({ memory: '300m', memorySwap: '-1' }), parse({ memory: '800m' }, 'update')).memory, 800 * M);
  assert.equal(mergeResources({}, parse({ memory: '800m' }, 'update')), { memory: 800 * M });
});

test('update: the merged pair must still make sense', () => {
  assert.is(
    usageMessage(() => mergeResources({}, parse({ memorySwap: '128m' }, 'update'))),
    'You should always set the Memory limit when using Memoryswap limit, see usage',
  );
  assert.is(
    usageMessage(() => mergeResources(parse({ memory: '64m', memorySwap: '128m' }), parse({ memorySwap: '32m' }, 'update'))),
    'Minimum memoryswap limit should be larger than memory limit, see usage',
  );
  // swap alone, for a container that has a memory limit
  assert.equal(mergeResources(parse({ memory: '64m' }), parse({ memorySwap: '256m' }, 'update')).memorySwap, 256 * M);
});

test.run();
