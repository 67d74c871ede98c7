// src/oci/seccomp.ts: linux.seccomp compiled to classic BPF. The filters are run here by a small
// classic BPF interpreter (test/helpers/bpf.ts) over synthetic seccomp_data, and checked
// against the kernel's rules for a seccomp program (seccomp_check_filter, bpf_check_classic).
// Node cannot call seccomp(2); python3's ctypes can, so where python3 is installed the last tests
// also load filters into a real process (prctl(PR_SET_NO_NEW_PRIVS), seccomp(SECCOMP_SET_MODE_FILTER))
// and compare the kernel's verdicts with the interpreter's. Without python3 they are skipped, saying so.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { parseConfig, type OciSeccomp, type SeccompOp } from '../../src/oci/config.js';
import { AUDIT_ARCH_X86_64, BPF, compileSeccomp, decodeFilter, SECCOMP_RET, type CompiledSeccomp, type Insn } from '../../src/oci/seccomp.js';
import { SYSCALLS_X86_64 } from '../../src/oci/syscalls-x86_64.js';
import { run, verify } from '../helpers/bpf.js';

const NR = SYSCALLS_X86_64;
const ERRNO = (e: number): number => SECCOMP_RET.ERRNO | e;
const { ALLOW, KILL_THREAD, KILL_PROCESS, TRAP, LOG } = SECCOMP_RET;

/** Parses through config.ts, as plan.ts will, then compiles and checks the program. */
function compile(seccomp: Record<string, unknown>): ReturnType<typeof compileSeccomp> {
  const c = parseConfig({ ociVersion: '1.1.0', root: { path: 'rootfs' }, linux: { seccomp } });
  const out = compileSeccomp(c.linux!.seccomp!);
  verify(decodeFilter(out.filter));
  assert.is(out.filter.length, out.length * 8);
  return out;
}

const verdict = (f: Buffer, nr: number, args: Array<bigint | number> = [], arch?: number): number => run(f, { nr, args, arch }).ret;

// ---- exact programs --------------------------------------------------------------------------

const I = (code: number, k: number, jt = 0, jf = 0): Insn => ({ code, jt, jf, k: k >>> 0 });
/** What every program starts with: the arch check, then x32 (bad arch) and -1 (the default). */
const prologue = (def: number): Insn[] => [
  I(BPF.LD_W_ABS, 4), I(BPF.JEQ_K, AUDIT_ARCH_X86_64, 1, 0), I(BPF.RET_K, KILL_THREAD),
  I(BPF.LD_W_ABS, 0), I(BPF.JGE_K, 0x40000000, 0, 3), I(BPF.JEQ_K, 0xffffffff, 0, 1), I(BPF.RET_K, def), I(BPF.RET_K, KILL_THREAD),
];

test('no rules: the default action for every native syscall', () => {
  const out = compile({ defaultAction: 'SCMP_ACT_ALLOW' });
  assert.equal(decodeFilter(out.filter), [...prologue(ALLOW), I(BPF.RET_K, ALLOW)]);
  assert.equal(out.unsupported, []);
});

test('one errno rule under ALLOW: a jeq to a shared ret, no ENOSYS stub', () => {
  const out = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }] });
  assert.equal(decodeFilter(out.filter), [...prologue(ALLOW), I(BPF.JEQ_K, NR.getcwd!, 1, 0), I(BPF.RET_K, ALLOW), I(BPF.RET_K, ERRNO(1))]);
});

test('an allow list under ERRNO: the ENOSYS stub above the highest number named', () => {
  const out = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['write', 'read'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(decodeFilter(out.filter), [
    ...prologue(ERRNO(1)),
    I(BPF.JGT_K, 1, 0, 1), I(BPF.RET_K, ERRNO(38)),
    I(BPF.JEQ_K, 0, 2, 0), I(BPF.JEQ_K, 1, 1, 0), I(BPF.RET_K, ERRNO(1)), I(BPF.RET_K, ALLOW),
  ]);
});

test('an EQ on a 64-bit argument: high half, then low half, each failing to the default', () => {
  const out = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 3, args: [{ index: 1, value: 0x1_0000_0009, op: 'SCMP_CMP_EQ' }] }] });
  assert.equal(decodeFilter(out.filter), [
    ...prologue(ALLOW),
    I(BPF.JEQ_K, NR.kill!, 0, 6),
    I(BPF.LD_W_ABS, 16 + 8 + 4), I(BPF.JEQ_K, 1, 0, 3), I(BPF.LD_W_ABS, 16 + 8), I(BPF.JEQ_K, 9, 0, 1), I(BPF.RET_K, ERRNO(3)),
    I(BPF.RET_K, ALLOW),
    I(BPF.RET_K, ALLOW),
  ]);
});

test('MASKED_EQ: AND with each half of the mask; a half whose mask is 0 is not compared', () => {
  const out = compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] }] });
  // defaultErrnoRet ENOSYS: no stub needed (it would return the same).
  assert.equal(decodeFilter(out.filter), [
    ...prologue(ERRNO(38)),
    I(BPF.JEQ_K, NR.clone!, 0, 5),
    I(BPF.LD_W_ABS, 16), I(BPF.ALU_AND_K, 0x7e020000), I(BPF.JEQ_K, 0, 0, 1), I(BPF.RET_K, ALLOW),
    I(BPF.RET_K, ERRNO(38)),
    I(BPF.RET_K, ERRNO(38)),
  ]);
});

// ---- verdicts --------------------------------------------------------------------------------

test('every action and its return value; errnoRet and the EPERM default (runc)', () => {
  const out = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['write'], action: 'SCMP_ACT_LOG' },
      { names: ['open'], action: 'SCMP_ACT_TRAP' },
      { names: ['close'], action: 'SCMP_ACT_KILL' },
      { names: ['stat'], action: 'SCMP_ACT_KILL_THREAD' },
      { names: ['fstat'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['lstat'], action: 'SCMP_ACT_TRACE' },
      { names: ['poll'], action: 'SCMP_ACT_TRACE', errnoRet: 42 },
      { names: ['lseek'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['mmap'], action: 'SCMP_ACT_ERRNO', errnoRet: 0 },
      { names: ['brk'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  const f = out.filter;
  assert.is(verdict(f, NR.read!), ALLOW);
  assert.is(verdict(f, NR.write!), LOG);
  assert.is(verdict(f, NR.open!), TRAP);
  assert.is(verdict(f, NR.close!), KILL_THREAD);
  assert.is(verdict(f, NR.stat!), KILL_THREAD);
  assert.is(verdict(f, NR.fstat!) >>> 0, KILL_PROCESS);
  assert.is(verdict(f, NR.lstat!), SECCOMP_RET.TRACE | 1);
  assert.is(verdict(f, NR.poll!), SECCOMP_RET.TRACE | 42);
  assert.is(verdict(f, NR.lseek!), ERRNO(13));
  assert.is(verdict(f, NR.mmap!), ERRNO(0));
  assert.is(verdict(f, NR.mprotect!), ERRNO(1), 'unlisted, below the highest named: the default');
  assert.is(verdict(f, NR.brk! + 1), ERRNO(38), 'above every named syscall: ENOSYS (runc)');
});

test('defaultErrnoRet sets the default errno', () => {
  const f = compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 5, syscalls: [{ names: ['exit'], action: 'SCMP_ACT_ALLOW' }] }).filter;
  assert.is(verdict(f, NR.exit!), ALLOW);
  assert.is(verdict(f, NR.read!), ERRNO(5));
});

test('wrong arch is killed (libseccomp bad-arch action), x32 too, even with SCMP_ARCH_X86 and SCMP_ARCH_X32 listed', () => {
  const out = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'] });
  assert.equal(out.unsupported, [], 'accepted: their calls are killed, which is stricter than the profile');
  const f = out.filter;
  assert.is(verdict(f, NR.read!), ALLOW);
  assert.is(verdict(f, 3, [], 0x40000003), KILL_THREAD, 'AUDIT_ARCH_I386');
  assert.is(verdict(f, 3, [], 0xc00000b7), KILL_THREAD, 'AUDIT_ARCH_AARCH64');
  assert.is(verdict(f, 0x40000000 | NR.read!), KILL_THREAD, 'x32 read');
  assert.is(verdict(f, 0x40000000 + 512), KILL_THREAD, 'x32 rt_sigaction');
  assert.is(verdict(f, 0xffffffff), ALLOW, '-1 (a tracer skipping the call): the default');
  const e = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }).filter;
  assert.is(verdict(e, 0xffffffff), ERRNO(1), '-1 gets the default, not ENOSYS');
});

/** 64-bit semantics of each operator, on BigInt: what the two 32-bit halves must reproduce. */
function holds(op: SeccompOp, arg: bigint, value: bigint, valueTwo: bigint): boolean {
  switch (op) {
    case 'SCMP_CMP_EQ': return arg === value;
    case 'SCMP_CMP_NE': return arg !== value;
    case 'SCMP_CMP_LT': return arg < value;
    case 'SCMP_CMP_LE': return arg <= value;
    case 'SCMP_CMP_GT': return arg > value;
    case 'SCMP_CMP_GE': return arg >= value;
    case 'SCMP_CMP_MASKED_EQ': return (arg & value) === (valueTwo & value);
  }
}

const OPS: SeccompOp[] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
const TWO32 = 2n ** 32n;
/** Values around the 32-bit boundary and around each other's halves. */
const VALUES = [0n, 1n, 5n, TWO32 - 1n, TWO32, TWO32 + 1n, TWO32 + 5n, 3n * TWO32, 3n * TWO32 + 7n, 2n ** 53n - 1n];
const ARGS = [...new Set([...VALUES.flatMap((v) => [v - 1n, v, v + 1n]).filter((v) => v >= 0n), 2n ** 64n - 1n, 2n ** 63n, 5n * TWO32 + 5n, TWO32 + 0xffffffffn])];

test('every operator on 64-bit values, above and below 2^32: the verdict of the 64-bit comparison', () => {
  let checked = 0;
  for (const op of OPS) {
    for (const value of VALUES) {
      const valueTwo = op === 'SCMP_CMP_MASKED_EQ' ? 3n * TWO32 + 5n : 0n;
      for (const index of [0, 3, 5]) {
        const f = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 9, args: [{ index, value: Number(value), valueTwo: Number(valueTwo), op }] }] }).filter;
        for (const arg of ARGS) {
          const args = [0n, 0n, 0n, 0n, 0n, 0n];
          args[index] = arg;
          const want = holds(op, arg, value, valueTwo) ? ERRNO(9) : ALLOW;
          assert.is(verdict(f, NR.ioctl!, args), want, `${op} arg${index}=${arg} value=${value}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 1500);
});

test('the conditions of a rule AND, the rules of a syscall OR; same-index conditions split into rules (runc)', () => {
  const f = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }, { index: 1, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ],
  }).filter;
  assert.is(verdict(f, NR.socket!, [2, 1]), ALLOW);
  assert.is(verdict(f, NR.socket!, [2, 2]), ERRNO(1), 'AND: the second condition fails');
  assert.is(verdict(f, NR.socket!, [10, 7]), ALLOW, 'OR: the second rule');
  assert.is(verdict(f, NR.personality!, [0]), ALLOW);
  assert.is(verdict(f, NR.personality!, [8]), ALLOW, 'arg0 == 0 and arg0 == 8 is two rules, not a contradiction');
  assert.is(verdict(f, NR.personality!, [9]), ERRNO(1));
});

test('libseccomp and runc rules: an unconditional rule wins, a rule with the default action is dropped, unknown names are skipped', () => {
  const out = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ERRNO' }, // the default: dropped, so the ALLOW below stays unconditional
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['write'], action: 'SCMP_ACT_TRAP', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['write'], action: 'SCMP_ACT_ALLOW' }, // unconditional: the conditional rule goes
      { names: ['close'], action: 'SCMP_ACT_LOG' },
      { names: ['close'], action: 'SCMP_ACT_TRAP' }, // a second unconditional rule: the first stays
      { names: ['close'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['chown32', 'no_such_call', 'getpid'], action: 'SCMP_ACT_ALLOW' },
      { names: ['dup'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }, // mask 0: always
    ],
  });
  const f = out.filter;
  assert.is(verdict(f, NR.read!), ALLOW);
  assert.is(verdict(f, NR.write!, [1]), ALLOW);
  assert.is(verdict(f, NR.close!, [0]), LOG);
  assert.is(verdict(f, NR.getpid!), ALLOW);
  assert.is(verdict(f, NR.dup!, [12345]), ALLOW);
  assert.equal(out.ignored, ['chown32', 'no_such_call']);
  assert.equal(out.unsupported, []);
});

test('flags: absent means SPEC_ALLOW (runc), LOG and SPEC_ALLOW as seccomp(2) bits, TSYNC and WAIT_KILLABLE_RECV ignored', () => {
  assert.is(compile({ defaultAction: 'SCMP_ACT_ALLOW' }).flags, 4);
  assert.is(compile({ defaultAction: 'SCMP_ACT_ALLOW', flags: [] }).flags, 0);
  assert.is(compile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }).flags, 2);
});

test('only x86_64 has a table', () => {
  try {
    compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [], syscalls: [] }, 'aarch64');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.is((err as Error).message, 'config.json: linux.seccomp cannot be compiled for aarch64');
  }
});

// ---- big programs: the tree and long jumps ---------------------------------------------------

const ALL = Object.keys(NR);

test('every x86_64 syscall allowed but a few: each verdict right, the tree shallow', () => {
  const denied = new Set(['mount', 'umount2', 'unshare', 'setns', 'reboot', 'kexec_load', 'bpf', 'init_module', 'ptrace']);
  const out = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ALL.filter((n) => !denied.has(n)), action: 'SCMP_ACT_ALLOW' }] });
  let worst = 0;
  for (const name of ALL) {
    const r = run(out.filter, { nr: NR[name]! });
    assert.is(r.ret, denied.has(name) ? ERRNO(1) : ALLOW, name);
    worst = Math.max(worst, r.steps);
  }
  for (const hole of [335, 400, 423]) assert.is(verdict(out.filter, hole), ERRNO(1), `hole ${hole}`);
  assert.is(verdict(out.filter, 451), ERRNO(38));
  assert.ok(worst <= 30, `worst path ${worst} instructions`);
  assert.ok(out.length < 600, `${out.length} instructions`);
});

test('long jumps: a syscall whose rules take more than 255 instructions, in a tree whose halves do too', () => {
  // 60 rules of one EQ each on openat (6 instructions a rule): a 361-instruction body.
  const many = Array.from({ length: 60 }, (_, i) => ({ names: ['openat'], action: 'SCMP_ACT_ERRNO', errnoRet: 100 + i, args: [{ index: 2, value: 2 ** 40 + i, op: 'SCMP_CMP_EQ' }] }));
  // And a conditional rule on every other syscall, so both halves of the tree are long.
  const each = ALL.filter((n) => n !== 'openat').map((n) => ({ names: [n], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1000 + NR[n]!, op: 'SCMP_CMP_NE' }] }));
  const out = compile({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [...many, ...each] });
  const code = decodeFilter(out.filter);
  assert.ok(code.some((c) => c.code === BPF.JA && c.k > 255), 'a ja over more than 255');
  for (let i = 0; i < 60; i += 7) assert.is(verdict(out.filter, NR.openat!, [0, 0, 2 ** 40 + i]), ERRNO(100 + i));
  assert.is(verdict(out.filter, NR.openat!, [0, 0, 2 ** 40 + 60]) >>> 0, KILL_PROCESS);
  for (const n of ALL.filter((x) => x !== 'openat')) {
    assert.is(verdict(out.filter, NR[n]!, [0]), ALLOW, n);
    assert.is(verdict(out.filter, NR[n]!, [1000 + NR[n]!]) >>> 0, KILL_PROCESS, n);
  }
});

test('too many instructions for the kernel: refused in one line', () => {
  const rules = ALL.slice(0, 150).map((n) => ({ names: [n], action: 'SCMP_ACT_ALLOW', args: [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: 1, op: 'SCMP_CMP_GT' })) }));
  try {
    compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: rules });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.match((err as Error).message, /^config\.json: linux\.seccomp compiles to \d+ BPF instructions, above the kernel's 4096$/);
  }
});

// ---- random profiles against a reference evaluator -------------------------------------------

/** The semantics in seccomp.ts's header, evaluated directly on 64-bit values. */
function reference(s: OciSeccomp, nr: number, args: bigint[]): number {
  const val = (a: string, e?: number): number => {
    const m: Record<string, number> = { SCMP_ACT_ALLOW: ALLOW, SCMP_ACT_LOG: LOG, SCMP_ACT_TRAP: TRAP, SCMP_ACT_KILL: 0, SCMP_ACT_KILL_THREAD: 0, SCMP_ACT_KILL_PROCESS: KILL_PROCESS, SCMP_ACT_ERRNO: ERRNO(e ?? 1), SCMP_ACT_TRACE: (SECCOMP_RET.TRACE | (e ?? 1)) >>> 0 };
    return m[a]!;
  };
  const def = val(s.defaultAction, s.defaultErrnoRet);
  const highest = Math.max(-1, ...s.syscalls.flatMap((r) => r.names.map((n) => NR[n] ?? -1)));
  const stub = !['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(s.defaultAction) && def !== ERRNO(38);
  if (stub && highest >= 0 && nr > highest) return ERRNO(38);
  // runc: conditions sharing an argument become rules of their own.
  const rules = s.syscalls
    .filter((r) => r.names.some((n) => NR[n] === nr) && val(r.action, r.errnoRet) !== def)
    .flatMap((r) => (new Set(r.args.map((a) => a.index)).size !== r.args.length ? r.args.map((a) => ({ ...r, args: [a] })) : [r]));
  const trivial = (a: (typeof rules)[number]['args'][number]): boolean => a.op === 'SCMP_CMP_MASKED_EQ' && a.value === 0;
  const always = rules.find((r) => r.args.every(trivial));
  if (always) return val(always.action, always.errnoRet);
  for (const r of rules) {
    if (r.args.every((a) => holds(a.op, args[a.index]!, BigInt(a.value), BigInt(a.valueTwo)))) return val(r.action, r.errnoRet);
  }
  return def;
}

test('random profiles: the filter agrees with the reference evaluator', () => {
  let seed = 14;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const vals = [0n, 1n, 2n, TWO32 - 1n, TWO32, TWO32 + 1n, 7n * TWO32 + 2n];
  const actions = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_KILL_PROCESS'];
  const names = ALL.slice(0, 40);
  for (let round = 0; round < 40; round++) {
    const syscalls = Array.from({ length: 1 + rnd(60) }, () => {
      const action = pick(actions);
      const rule: Record<string, unknown> = { names: Array.from({ length: 1 + rnd(3) }, () => pick(names)), action };
      if (action === 'SCMP_ACT_ERRNO' && rnd(2)) rule.errnoRet = rnd(50);
      if (rnd(3)) rule.args = Array.from({ length: 1 + rnd(3) }, () => ({ index: rnd(3), value: Number(pick(vals)), valueTwo: Number(pick(vals)), op: pick(OPS) }));
      return rule;
    });
    const seccomp = { defaultAction: pick(['SCMP_ACT_ERRNO', 'SCMP_ACT_ALLOW', 'SCMP_ACT_KILL']), syscalls };
    const parsed = parseConfig({ ociVersion: '1.1.0', root: { path: 'rootfs' }, linux: { seccomp } }).linux!.seccomp!;
    const f = compile(seccomp).filter;
    for (let t = 0; t < 200; t++) {
      const nr = NR[pick(names)]!;
      const args = [pick(vals), pick(vals), pick(vals), 0n, 0n, 0n];
      assert.is(verdict(f, nr, args), reference(parsed, nr, args), `round ${round}: nr ${nr} args ${args.slice(0, 3).join(',')}`);
    }
  }
});

// ---- docker's default profile, as dockerd renders it for a container without extra capabilities --

/** moby's profiles/seccomp/default.json for amd64, the includes/excludes resolved for the default
 *  capability set; the allow list written out (names of other architectures included, as docker does). */
function dockerProfile(): Record<string, unknown> {
  const allow = [
    'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'capget', 'capset', 'chdir', 'chmod', 'chown', 'chown32',
    'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
    'clock_nanosleep_time64', 'close', 'close_range', 'connect', 'copy_file_range', 'creat', 'dup', 'dup2', 'dup3', 'epoll_create',
    'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2',
    'execve', 'execveat', 'exit', 'exit_group', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fanotify_mark',
    'fchdir', 'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'fgetxattr', 'flistxattr',
    'flock', 'fork', 'fremovexattr', 'fsetxattr', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate',
    'ftruncate64', 'futex', 'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv', 'futex_wake', 'futimesat', 'getcpu', 'getcwd',
    'getdents', 'getdents64', 'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32', 'getitimer',
    'getpeername', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority', 'getrandom', 'getresgid', 'getresgid32', 'getresuid',
    'getresuid32', 'getrlimit', 'get_robust_list', 'getrusage', 'getsid', 'getsockname', 'getsockopt', 'get_thread_area', 'gettid',
    'gettimeofday', 'getuid', 'getuid32', 'getxattr', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'io_cancel',
    'ioctl', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'ioprio_get', 'ioprio_set', 'io_setup', 'io_submit',
    'ipc', 'kill', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'lchown', 'lchown32', 'lgetxattr', 'link',
    'linkat', 'listen', 'listxattr', 'llistxattr', '_llseek', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'lstat64', 'madvise',
    'map_shadow_stack', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2',
    'mlockall', 'mmap', 'mmap2', 'mprotect', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64',
    'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink', 'mremap', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'msync', 'munlock', 'munlockall',
    'munmap', 'name_to_handle_at', 'nanosleep', 'newfstatat', '_newselect', 'open', 'openat', 'openat2', 'pause', 'pidfd_open',
    'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'poll', 'ppoll', 'ppoll_time64', 'prctl', 'pread64',
    'preadv', 'preadv2', 'prlimit64', 'process_mrelease', 'pselect6', 'pselect6_time64', 'pwrite64', 'pwritev', 'pwritev2', 'read',
    'readahead', 'readlink', 'readlinkat', 'readv', 'recv', 'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'remap_file_pages',
    'removexattr', 'rename', 'renameat', 'renameat2', 'restart_syscall', 'rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask',
    'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo',
    'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min', 'sched_getscheduler',
    'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler',
    'sched_yield', 'seccomp', 'select', 'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'send', 'sendfile', 'sendfile64',
    'sendmmsg', 'sendmsg', 'sendto', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32',
    'setitimer', 'setpgid', 'setpriority', 'setregid', 'setregid32', 'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid',
    'setreuid32', 'setrlimit', 'set_robust_list', 'setsid', 'setsockopt', 'set_thread_area', 'set_tid_address', 'setuid', 'setuid32',
    'setxattr', 'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown', 'sigaltstack', 'signalfd', 'signalfd4', 'sigprocmask', 'sigreturn',
    'socketcall', 'socketpair', 'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range',
    'syncfs', 'sysinfo', 'tee', 'tgkill', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64',
    'timer_settime', 'timer_settime64', 'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64',
    'times', 'tkill', 'truncate', 'truncate64', 'ugetrlimit', 'umask', 'uname', 'unlink', 'unlinkat', 'utime', 'utimensat',
    'utimensat_time64', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'waitpid', 'write', 'writev',
  ];
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: allow, action: 'SCMP_ACT_ALLOW' },
      { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], action: 'SCMP_ACT_ALLOW' },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      ...[0, 8, 131072, 131080, 4294967295].map((value) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] })),
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
      { names: ['modify_ldt'], action: 'SCMP_ACT_ALLOW' },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  };
}

test("docker's default profile: verdicts, size, and what is skipped", () => {
  const out = compile(dockerProfile());
  const f = out.filter;
  assert.is(verdict(f, NR.read!), ALLOW);
  assert.is(verdict(f, NR.execve!), ALLOW);
  assert.is(verdict(f, NR.mount!), ERRNO(1), 'mount needs CAP_SYS_ADMIN');
  assert.is(verdict(f, NR.unshare!), ERRNO(1));
  assert.is(verdict(f, NR.kexec_load!), ERRNO(1));
  assert.is(verdict(f, NR.clone3!), ERRNO(38), 'clone3: ENOSYS, so that glibc falls back to clone');
  assert.is(verdict(f, NR.clone!, [0x11 /* SIGCHLD... */ | 0x01200000]), ALLOW, 'fork-like clone');
  assert.is(verdict(f, NR.clone!, [0x10000000 /* CLONE_NEWUSER */]), ERRNO(1));
  assert.is(verdict(f, NR.clone!, [2n ** 32n | 0x11n]), ALLOW, 'the mask is 32-bit: high bits are not looked at');
  assert.is(verdict(f, NR.socket!, [2]), ALLOW, 'AF_INET');
  assert.is(verdict(f, NR.socket!, [40]), ERRNO(1), 'AF_VSOCK');
  assert.is(verdict(f, NR.socket!, [2n ** 32n + 40n]), ALLOW, 'NE on 64 bits');
  assert.is(verdict(f, NR.personality!, [0xffffffff]), ALLOW);
  assert.is(verdict(f, NR.personality!, [0x0400000]), ERRNO(1), 'ADDR_NO_RANDOMIZE');
  assert.is(verdict(f, 451), ERRNO(38), 'a number past the table (cachestat on a 6.5+ kernel): ENOSYS');
  assert.is(verdict(f, NR.read!, [], 0x40000003), KILL_THREAD, 'i386: killed, named in unsupported');
  assert.equal(out.unsupported, [], 'the i386 and x32 entries are accepted (their calls are killed)');
  assert.ok(out.ignored.includes('chown32') && out.ignored.includes('fchmodat2') && !out.ignored.includes('read'));
  let worst = 0;
  for (const name of ALL) worst = Math.max(worst, run(f, { nr: NR[name]!, args: [0x11] }).steps);
  console.log(`  docker's profile: ${out.length} instructions, ${out.ignored.length} names skipped, worst path ${worst} instructions`);
  assert.ok(out.length < 600, `${out.length} instructions`);
});

// ---- the real kernel, through python3's ctypes -----------------------------------------------

/** argv: FILTER_HEX FLAGS then `calls NR:ARG0:ARG1... ...` (prints "ret errno" a call) or a program to exec. */
const LOADER = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
prog = bytes.fromhex(sys.argv[1])
class Fprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
buf = ctypes.create_string_buffer(prog, len(prog))
fp = Fprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
if libc.prctl(38, 1, 0, 0, 0) != 0:
    print('skip: prctl(PR_SET_NO_NEW_PRIVS) errno %d' % ctypes.get_errno(), file=sys.stderr); sys.exit(77)
if libc.syscall(317, 1, ctypes.c_ulong(int(sys.argv[2])), ctypes.byref(fp)) != 0:
    e = ctypes.get_errno()
    print('%s: seccomp(2) errno %d' % ('refused' if e == 22 else 'skip', e), file=sys.stderr); sys.exit(22 if e == 22 else 77)
if sys.argv[3] == 'calls':
    libc.syscall.restype = ctypes.c_long
    for call in sys.argv[4:]:
        nr, *args = [int(x) for x in call.split(':')]
        r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a) for a in args])
        print('%d %d' % (r, ctypes.get_errno() if r == -1 else 0), flush=True)
else:
    os.execv(sys.argv[3], sys.argv[3:])
`;

const hasPython = spawnSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' }).status === 0;

/** Runs the loader; null when this host cannot load a filter at all (then the test says it skipped). */
function inKernel(out: CompiledSeccomp, argv: string[]): { status: number | null; signal: string | null; stdout: string; stderr: string } | null {
  const r = spawnSync('python3', ['-c', LOADER, out.filter.toString('hex'), String(out.flags), ...argv], { encoding: 'utf8', timeout: 20_000 });
  if (r.status === 77) {
    console.log(`  (kernel check skipped: ${r.stderr.trim()})`);
    return null;
  }
  assert.is.not(r.status, 22, `the kernel refused the filter: ${r.stderr}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The kernel's verdict for each call, in the interpreter's terms: ALLOW, ERRNO(e), or the signal. */
function kernelVerdicts(out: CompiledSeccomp, calls: Array<[number, ...Array<bigint | number>]>): string[] | null {
  const r = inKernel(out, ['calls', ...calls.map((c) => c.join(':'))]);
  if (!r) return null;
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  const got = lines.map((l) => {
    const [ret, errno] = l.split(' ').map(Number);
    return ret === -1 ? `errno ${errno}` : 'allowed';
  });
  if (r.signal) got.push(r.signal);
  return got;
}

const interpreted = (out: CompiledSeccomp, calls: Array<[number, ...Array<bigint | number>]>): string[] => {
  const got: string[] = [];
  for (const [nr, ...args] of calls) {
    const v = verdict(out.filter, nr, args);
    if (v === ALLOW) got.push('allowed');
    else if ((v & 0xffff0000) === SECCOMP_RET.ERRNO) got.push(`errno ${v & 0xffff}`);
    else {
      got.push(v === KILL_THREAD || v >>> 0 === KILL_PROCESS ? 'SIGSYS' : `ret ${v}`);
      break;
    }
  }
  return got;
};

if (!hasPython) {
  test('the real kernel: skipped, python3 (its ctypes) is not installed', () => {});
} else {
  test('the real kernel: every operator on 64-bit arguments gives the interpreter\'s verdicts (getppid ignores its arguments)', () => {
    for (const op of OPS) {
      const value = 3n * TWO32 + 5n;
      const out = compileSeccomp(parseConfig({ ociVersion: '1.1.0', root: { path: 'rootfs' }, linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 7, args: [{ index: 2, value: Number(value), valueTwo: Number(TWO32 + 4n), op }] }] } } }).linux!.seccomp!);
      const calls = ARGS.map((a): [number, ...bigint[]] => [NR.getppid!, 0n, 0n, a]);
      const k = kernelVerdicts(out, calls);
      if (!k) return;
      assert.equal(k, interpreted(out, calls), op);
    }
  });

  test("the real kernel: docker's profile loads; sh runs; mount, unshare, clone3, AF_VSOCK, x32 refused as the interpreter says", () => {
    const out = compile(dockerProfile());
    const sh = inKernel(out, ['/bin/sh', '-c', 'echo ok']);
    if (!sh) return;
    assert.is(sh.stdout, 'ok\n');
    assert.is(sh.status, 0);
    const calls: Array<[number, ...Array<bigint | number>]> = [
      [NR.getpid!], [NR.mount!, 0, 0, 0, 0, 0], [NR.unshare!, 0x10000000], [NR.clone3!, 0, 0], [NR.socket!, 40, 1, 0],
      [NR.personality!, 0xffffffff], [NR.personality!, 0x0040000], [NR.kexec_load!, 0, 0, 0, 0], [451, 0, 0, 0, 0, 0], [0x40000000 | NR.getpid!],
    ];
    const k = kernelVerdicts(out, calls);
    assert.equal(k, interpreted(out, calls));
    assert.equal(k, ['allowed', 'errno 1', 'errno 1', 'errno 38', 'errno 1', 'allowed', 'errno 1', 'errno 1', 'errno 38', 'SIGSYS']);
  });

  test('the real kernel: a long-jump program (a 361-instruction body) loads and agrees', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 100 + i, args: [{ index: 1, value: 2 ** 40 + i, op: 'SCMP_CMP_EQ' }] }));
    const out = compile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'], syscalls: [...many, { names: ALL.filter((n) => n !== 'getppid' && n !== 'exit_group'), action: 'SCMP_ACT_LOG' }] });
    assert.ok(decodeFilter(out.filter).some((c) => c.code === BPF.JA));
    const calls: Array<[number, ...Array<bigint | number>]> = [0, 1, 30, 59, 60].map((i) => [NR.getppid!, 0, 2n ** 40n + BigInt(i)]);
    const k = kernelVerdicts(out, calls);
    if (!k) return;
    assert.equal(k, interpreted(out, calls));
    assert.equal(k, ['errno 100', 'errno 101', 'errno 130', 'errno 159', 'allowed']);
  });
}

test.run();
