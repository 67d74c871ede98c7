// A small classic BPF interpreter for the seccomp programs src/oci/seccomp.ts emits (its opcodes
// only), over synthetic seccomp_data, and the kernel's checks for a program (seccomp_check_filter,
// bpf_check_classic). Pure.
import * as assert from 'uvu/assert';
import { AUDIT_ARCH_X86_64, BPF, decodeFilter, MAX_INSNS, type Insn } from '../../src/oci/seccomp.js';

export interface Data {
  nr: number;
  arch?: number;
  args?: Array<bigint | number>;
}

/** The kernel's checks: length, every jump inside the program, a RET last, loads aligned inside seccomp_data. */
export function verify(code: Insn[]): void {
  assert.ok(code.length >= 1 && code.length <= MAX_INSNS, `length ${code.length}`);
  code.forEach((c, pc) => {
    if (c.code === BPF.JA) assert.ok(pc + 1 + c.k < code.length, `ja out of range at ${pc}`);
    else if (c.code === BPF.JEQ_K || c.code === BPF.JGT_K || c.code === BPF.JGE_K) assert.ok(pc + 1 + Math.max(c.jt, c.jf) < code.length, `jump out of range at ${pc}`);
    else if (c.code === BPF.LD_W_ABS) assert.ok(c.k % 4 === 0 && c.k < 64, `load at ${c.k}`);
    else assert.ok(c.code === BPF.ALU_AND_K || c.code === BPF.RET_K, `opcode ${c.code.toString(16)} at ${pc}`);
  });
  assert.is(code[code.length - 1]!.code, BPF.RET_K);
}

/** Runs a filter over one seccomp_data; returns the verdict and the instructions executed. */
export function run(filter: Buffer | Insn[], d: Data): { ret: number; steps: number } {
  const code = Buffer.isBuffer(filter) ? decodeFilter(filter) : filter;
  const mem = Buffer.alloc(64);
  mem.writeUInt32LE(d.nr >>> 0, 0);
  mem.writeUInt32LE((d.arch ?? AUDIT_ARCH_X86_64) >>> 0, 4);
  (d.args ?? []).forEach((a, i) => mem.writeBigUInt64LE(BigInt(a), 16 + 8 * i));
  let A = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    const c = code[pc++];
    if (!c) throw new Error(`fell off the program at ${pc - 1}`);
    steps++;
    switch (c.code) {
      case BPF.LD_W_ABS:
        A = mem.readUInt32LE(c.k);
        break;
      case BPF.ALU_AND_K:
        A = (A & c.k) >>> 0;
        break;
      case BPF.JA:
        pc += c.k;
        break;
      case BPF.JEQ_K:
        pc += A === c.k ? c.jt : c.jf;
        break;
      case BPF.JGT_K:
        pc += A > c.k ? c.jt : c.jf;
        break;
      case BPF.JGE_K:
        pc += A >= c.k ? c.jt : c.jf;
        break;
      case BPF.RET_K:
        return { ret: c.k, steps };
      default:
        throw new Error(`opcode ${c.code} at ${pc - 1}`);
    }
  }
}
