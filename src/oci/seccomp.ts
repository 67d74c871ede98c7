// Compiles config.json's linux.seccomp into a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER).
// Pure: no fs, no native code. The filter is the raw `struct sock_filter[]` (8 bytes an instruction:
// u16 code, u8 jt, u8 jf, u32 k, little endian), ready for the native side to install.
//
// What it follows, and where from:
//   - runc (libcontainer/seccomp): SCMP_ACT_KILL is KILL_THREAD; ERRNO and TRACE default to EPERM;
//     a rule whose action equals the default is dropped; a name unknown for the architecture is
//     skipped; when one rule has two conditions on the same argument, each condition becomes a rule
//     of its own (OR) instead of the AND libseccomp would refuse; the -ENOSYS stub: when the default
//     action is not ALLOW, LOG or TRACE, a syscall numbered above every syscall the profile names gets
//     ENOSYS (a kernel newer than the profile, and glibc falls back), not the default action; no flags
//     at all means SECCOMP_FILTER_FLAG_SPEC_ALLOW.
//   - libseccomp (2.6, db.c and gen_bpf.c): a wrong seccomp_data.arch gets the bad-arch action, KILL
//     (thread); on x86_64 a syscall number with the x32 bit set is bad-arch too, except -1 (a tracer's
//     "skip this syscall"), which gets the default action; the conditions of one rule are ANDed in
//     argument order, the rules of one syscall are ORed; an unconditional rule makes a syscall's other
//     rules moot, and of two unconditional rules the first stays; every 64-bit comparison is done on the
//     two 32-bit halves, high then low, as libseccomp draws them for each operator; MASKED_EQ compares
//     (arg & value) with (valueTwo & value), a half whose mask is 0 not compared at all.
//   Where rules of one syscall overlap with different actions, the first listed that matches wins
//   (libseccomp orders its tree by argument instead: the same verdict unless the overlap is that odd).
//
// Layout: arch check; x32 check; the -ENOSYS stub; then a binary tree of `jgt` on the syscall number
// down to leaves of at most LEAF syscalls, each a `jeq` per syscall. Classic BPF jumps are 8-bit, so
// every block is built from its end backwards, knowing its size, and a jump of more than 255 becomes
// a `ja` (32-bit) behind an inverted short test. Nothing jumps out of the block it is in: every path
// ends in a `ret`.
import { configError, type OciSeccomp, type OciSeccompArg, type SeccompAction } from './config.js';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.js';

/** Opcodes (linux/bpf_common.h), the only ones emitted. */
export const BPF = {
  LD_W_ABS: 0x20, // BPF_LD | BPF_W | BPF_ABS: A = seccomp_data[k]
  ALU_AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K: A &= k
  JA: 0x05, // BPF_JMP | BPF_JA: pc += k
  JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JGT_K: 0x25, // BPF_JMP | BPF_JGT | BPF_K
  JGE_K: 0x35, // BPF_JMP | BPF_JGE | BPF_K
  RET_K: 0x06, // BPF_RET | BPF_K
} as const;

/** linux/seccomp.h return values (the action in the high 16 bits, the data in the low 16). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const X32_SYSCALL_BIT = 0x40000000;
/** The kernel's BPF_MAXINSNS. */
export const MAX_INSNS = 4096;
const EPERM = 1;
const ENOSYS = 38;
/** struct seccomp_data: nr at 0, arch at 4, instruction_pointer at 8, args[6] at 16 (u64 each). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number): number => 16 + 8 * i;
const argHi = (i: number): number => 16 + 8 * i + 4;
/** Syscalls in a leaf of the dispatch tree. */
const LEAF = 8;

/** seccomp(2) flag bits (linux/seccomp.h). */
export const SECCOMP_FILTER_FLAG = { TSYNC: 1, LOG: 2, SPEC_ALLOW: 4, NEW_LISTENER: 8, WAIT_KILLABLE_RECV: 32 } as const;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export interface CompiledSeccomp {
  /** struct sock_filter[], little endian. */
  filter: Buffer;
  /** Parts of linux.seccomp the filter cannot carry out, named as plan.ts names fields. */
  unsupported: string[];
  /** Syscall names this architecture's table lacks, skipped as runc skips them (information only). */
  ignored: string[];
  /** The flags argument of seccomp(SECCOMP_SET_MODE_FILTER): LOG, SPEC_ALLOW. */
  flags: number;
  /** Instructions in the filter. */
  length: number;
}

/** The return value of an action; errno (or the tracer's message) defaults to EPERM as in runc. */
export function actionValue(action: SeccompAction, errnoRet?: number): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
  }
}

const insn = (code: number, k: number, jt = 0, jf = 0): Insn => {
  if (jt > 255 || jf > 255 || jt < 0 || jf < 0) throw new Error(`seccomp: jump out of range (${jt}, ${jf})`);
  return { code, jt, jf, k: k >>> 0 };
};
const ld = (off: number): Insn => insn(BPF.LD_W_ABS, off);
const ret = (v: number): Insn => insn(BPF.RET_K, v);

/** A condition as libseccomp keeps it: one argument, one operator, 64-bit datum (and mask). */
interface Cond {
  index: number;
  op: OciSeccompArg['op'];
  datum: bigint;
  mask: bigint;
}

interface Rule {
  conds: Cond[];
  ret: number;
}

const U32 = 0xffffffffn;
const hi = (v: bigint): number => Number((v >> 32n) & U32);
const lo = (v: bigint): number => Number(v & U32);

function toCond(a: OciSeccompArg): Cond {
  if (a.op === 'SCMP_CMP_MASKED_EQ') {
    const mask = BigInt(a.value);
    return { index: a.index, op: a.op, mask, datum: BigInt(a.valueTwo) & mask };
  }
  // valueTwo is meaningless for the other operators (libseccomp ignores its datum_b).
  return { index: a.index, op: a.op, mask: 0xffffffffffffffffn, datum: BigInt(a.value) };
}

/** A jump target inside a comparison: the next instruction, the end of this comparison (it holds), or the rule's failure. */
type Target = number | 'pass' | 'fail';
interface Pending {
  code: number;
  k: number;
  jt: Target;
  jf: Target;
}

const P = (code: number, k: number, jt: Target = 0, jf: Target = 0): Pending => ({ code, k, jt, jf });

/** One condition as 32-bit halves, high then low: libseccomp's diagrams in db.c, _db_rule_gen_64. */
function condCode(c: Cond): Pending[] {
  const H = argHi(c.index);
  const L = argLo(c.index);
  const dh = hi(c.datum);
  const dl = lo(c.datum);
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return [P(BPF.LD_W_ABS, H), P(BPF.JEQ_K, dh, 0, 'fail'), P(BPF.LD_W_ABS, L), P(BPF.JEQ_K, dl, 'pass', 'fail')];
    case 'SCMP_CMP_NE':
      return [P(BPF.LD_W_ABS, H), P(BPF.JEQ_K, dh, 0, 'pass'), P(BPF.LD_W_ABS, L), P(BPF.JEQ_K, dl, 'fail', 'pass')];
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      return [
        P(BPF.LD_W_ABS, H), P(BPF.JGT_K, dh, 'pass', 0), P(BPF.JEQ_K, dh, 0, 'fail'),
        P(BPF.LD_W_ABS, L), P(c.op === 'SCMP_CMP_GT' ? BPF.JGT_K : BPF.JGE_K, dl, 'pass', 'fail'),
      ];
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      return [
        P(BPF.LD_W_ABS, H), P(BPF.JGT_K, dh, 'fail', 0), P(BPF.JEQ_K, dh, 0, 'pass'),
        P(BPF.LD_W_ABS, L), P(c.op === 'SCMP_CMP_LT' ? BPF.JGE_K : BPF.JGT_K, dl, 'fail', 'pass'),
      ];
    case 'SCMP_CMP_MASKED_EQ': {
      const out: Pending[] = [];
      const mh = hi(c.mask);
      const ml = lo(c.mask);
      if (mh) out.push(P(BPF.LD_W_ABS, H), P(BPF.ALU_AND_K, mh), P(BPF.JEQ_K, dh, 0, 'fail'));
      if (ml) out.push(P(BPF.LD_W_ABS, L), P(BPF.ALU_AND_K, ml), P(BPF.JEQ_K, dl, 0, 'fail'));
      return out;
    }
  }
}

/** A rule: its conditions in a row, then its action; any failing condition jumps past the `ret`. */
function ruleCode(rule: Rule): Insn[] {
  const parts = rule.conds.map(condCode);
  const total = parts.reduce((n, p) => n + p.length, 0) + 1;
  const out: Insn[] = [];
  for (const part of parts) {
    const start = out.length;
    part.forEach((p, i) => {
      const at = start + i;
      const resolve = (t: Target): number => (t === 'pass' ? part.length - i - 1 : t === 'fail' ? total - at - 1 : t);
      out.push(p.code === BPF.JEQ_K || p.code === BPF.JGT_K || p.code === BPF.JGE_K ? insn(p.code, p.k, resolve(p.jt), resolve(p.jf)) : insn(p.code, p.k));
    });
  }
  out.push(ret(rule.ret));
  return out;
}

interface Syscall {
  nr: number;
  /** The action of the syscall's unconditional rule, if it has one. */
  always?: number;
  rules: Rule[];
}

/** A syscall's conditional rules, then the default action when none matched. */
function bodyCode(s: Syscall, defaultRet: number): Insn[] {
  return [...s.rules.flatMap(ruleCode), ret(defaultRet)];
}

/** A leaf: `jeq nr` per syscall, the default, then one shared `ret` per unconditional action. Built backwards. */
function leafCode(list: Syscall[], defaultRet: number): Insn[] {
  const shared = [...new Set(list.filter((s) => s.always !== undefined).map((s) => s.always!))];
  let code: Insn[] = [ret(defaultRet), ...shared.map(ret)];
  /** Where shared action v is, counted from the start of `code`. */
  const sharedAt = (v: number): number => code.length - shared.length + shared.indexOf(v);
  for (const s of [...list].reverse()) {
    if (s.always !== undefined) {
      const t = sharedAt(s.always);
      code = t <= 255 ? [insn(BPF.JEQ_K, s.nr, t, 0), ...code] : [insn(BPF.JEQ_K, s.nr, 0, 1), ret(s.always), ...code];
    } else {
      const body = bodyCode(s, defaultRet);
      const head = body.length <= 255 ? [insn(BPF.JEQ_K, s.nr, 0, body.length)] : [insn(BPF.JEQ_K, s.nr, 1, 0), insn(BPF.JA, body.length)];
      code = [...head, ...body, ...code];
    }
  }
  return code;
}

/** The dispatch tree: `jgt` on the middle number, the lower half next, the upper half after it. */
function treeCode(list: Syscall[], defaultRet: number): Insn[] {
  if (list.length <= LEAF) return list.length ? leafCode(list, defaultRet) : [ret(defaultRet)];
  const mid = Math.ceil(list.length / 2);
  const left = treeCode(list.slice(0, mid), defaultRet);
  const right = treeCode(list.slice(mid), defaultRet);
  const k = list[mid - 1]!.nr;
  const head = left.length <= 255 ? [insn(BPF.JGT_K, k, left.length, 0)] : [insn(BPF.JGT_K, k, 0, 1), insn(BPF.JA, left.length)];
  return [...head, ...left, ...right];
}

function encode(code: Insn[]): Buffer {
  const buf = Buffer.alloc(code.length * 8);
  code.forEach((c, i) => {
    buf.writeUInt16LE(c.code, i * 8);
    buf.writeUInt8(c.jt, i * 8 + 2);
    buf.writeUInt8(c.jf, i * 8 + 3);
    buf.writeUInt32LE(c.k, i * 8 + 4);
  });
  return buf;
}

/** Reads a filter back into instructions (for tests and --explain). */
export function decodeFilter(buf: Buffer): Insn[] {
  const out: Insn[] = [];
  for (let i = 0; i + 8 <= buf.length; i += 8) out.push({ code: buf.readUInt16LE(i), jt: buf.readUInt8(i + 2), jf: buf.readUInt8(i + 3), k: buf.readUInt32LE(i + 4) });
  return out;
}

const ALLOW_LIKE = new Set<SeccompAction>(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE']);

export function compileSeccomp(s: OciSeccomp, arch = 'x86_64'): CompiledSeccomp {
  if (arch !== 'x86_64') throw configError('linux.seccomp', `cannot be compiled for ${arch}`, 'minidock-runc has a system call table for x86_64 only');
  const table = new Map(Object.entries(SYSCALLS_X86_64));
  const unsupported: string[] = [];
  // SCMP_ARCH_X86 and SCMP_ARCH_X32 in `architectures` are accepted, but their system calls are
  // killed as those of any architecture the filter leaves out (there is a table for x86_64
  // only). That is stricter than the profile, never looser, and it is what minidock's own
  // filter does: a 32-bit binary dies with SIGSYS where runc would run it. Refusing the config
  // instead would refuse docker's and runtime-tools' profiles, which list both. Other
  // architectures (ARM, s390x...) never reach an x86_64 kernel's filter.

  const defaultRet = actionValue(s.defaultAction, s.defaultErrnoRet);
  const ignored = new Set<string>();
  const calls = new Map<number, Syscall>();
  let last = -1;
  for (const r of s.syscalls) {
    const value = actionValue(r.action, r.errnoRet);
    // runc: two conditions on one argument turn each condition into a rule of its own.
    const counts = new Map<number, number>();
    for (const a of r.args) counts.set(a.index, (counts.get(a.index) ?? 0) + 1);
    const split = [...counts.values()].some((n) => n > 1);
    const groups = split ? r.args.map((a) => [a]) : [r.args];
    for (const name of r.names) {
      const nr = table.get(name);
      if (nr === undefined) {
        ignored.add(name);
        continue;
      }
      last = Math.max(last, nr);
      if (value === defaultRet) continue; // runc: redundant, dropped
      const call = calls.get(nr) ?? { nr, rules: [] };
      calls.set(nr, call);
      for (const g of groups) {
        // libseccomp drops a MASKED_EQ whose mask is 0 (always true), then sorts by argument.
        const conds = g.map(toCond).filter((c) => c.op !== 'SCMP_CMP_MASKED_EQ' || c.mask !== 0n).sort((x, y) => x.index - y.index);
        if (call.always !== undefined) continue; // an unconditional rule is there: nothing can add to it
        if (!conds.length) {
          call.always = value;
          call.rules = [];
        } else {
          call.rules.push({ conds, ret: value });
        }
      }
    }
  }

  const list = [...calls.values()].sort((a, b) => a.nr - b.nr);
  const code: Insn[] = [
    ld(OFF_ARCH),
    insn(BPF.JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
    ret(SECCOMP_RET.KILL_THREAD), // libseccomp's bad-arch action
    ld(OFF_NR),
    insn(BPF.JGE_K, X32_SYSCALL_BIT, 0, 3),
    insn(BPF.JEQ_K, 0xffffffff, 0, 1),
    ret(defaultRet), // -1: a tracer skipping the syscall
    ret(SECCOMP_RET.KILL_THREAD), // x32: bad arch
  ];
  if (!ALLOW_LIKE.has(s.defaultAction) && defaultRet !== actionValue('SCMP_ACT_ERRNO', ENOSYS) && last >= 0) {
    code.push(insn(BPF.JGT_K, last, 0, 1), ret(actionValue('SCMP_ACT_ERRNO', ENOSYS)));
  }
  code.push(...treeCode(list, defaultRet));
  if (code.length > MAX_INSNS) {
    throw configError('linux.seccomp', `compiles to ${code.length} BPF instructions, above the kernel's ${MAX_INSNS}`, 'write fewer argument rules');
  }

  let flags = 0;
  for (const f of s.flags ?? ['SECCOMP_FILTER_FLAG_SPEC_ALLOW']) {
    if (f === 'SECCOMP_FILTER_FLAG_LOG') flags |= SECCOMP_FILTER_FLAG.LOG;
    if (f === 'SECCOMP_FILTER_FLAG_SPEC_ALLOW') flags |= SECCOMP_FILTER_FLAG.SPEC_ALLOW;
    // TSYNC: one thread execs the container's program anyway (runc ignores it too);
    // WAIT_KILLABLE_RECV: only with a listener, and SCMP_ACT_NOTIFY is refused.
  }
  return { filter: encode(code), unsupported, ignored: [...ignored], flags, length: code.length };
}
