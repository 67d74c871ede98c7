// --security-opt seccomp=FILE: docker's profile format as the OCI profile dockerd would give runc.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dockerSeccompProfile, kernelVersion } from '../../src/spec/seccomp-docker.js';
import { MinidockError } from '../../src/core/errors.js';

const ctx = { caps: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'], arch: 'SCMP_ARCH_X86_64', kernel: '6.18.0-1-amd64' };
const profile = (o: Record<string, unknown>): string => JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, ...o });
const names = (text: string, c = ctx): string[][] => dockerSeccompProfile(text, c).syscalls.map((r) => r.names);

test('archMap gives the host architecture and its sub-architectures only', () => {
  const p = dockerSeccompProfile(profile({
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
    syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ALLOW', comment: 'x' }],
  }), ctx);
  assert.equal(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.is(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(p.defaultErrnoRet, 1);
  assert.equal(p.syscalls, [{ names: ['getcwd'], action: 'SCMP_ACT_ALLOW', args: [] }]);
});

test('includes and excludes: caps (all of them / any of them), arches, minKernel', () => {
  const text = profile({
    syscalls: [
      { names: ['a1'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_CHOWN'] } },
      { names: ['a2'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] } },
      { names: ['a3'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_BIND_SERVICE'] } },
      { names: ['a4'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['a5'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['s390', 's390x', 'SCMP_ARCH_S390X'] } },
      { names: ['a6'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['SCMP_ARCH_X86_64'] } },
      { names: ['a7'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['SCMP_ARCH_X86_64'] } },
      { names: ['a8'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['a9'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '7.0' } },
      { names: ['a10'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '6.18' } },
      { names: ['a11'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '6.19' } },
      { name: 'a12', action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  assert.equal(names(text), [['a1'], ['a4'], ['a6'], ['a8'], ['a11'], ['a12']]);
  assert.equal(names(text, { ...ctx, caps: [...ctx.caps, 'CAP_SYS_ADMIN'] }), [['a1'], ['a2'], ['a6'], ['a8'], ['a11'], ['a12']]);
  assert.equal(dockerSeccompProfile(text, ctx).syscalls.at(-1), { names: ['a12'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [] });
});

test("argument conditions pass through as the OCI spec's", () => {
  const p = dockerSeccompProfile(profile({ syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] }] }), ctx);
  assert.equal(p.syscalls[0]!.args, [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }]);
});

test('bad profiles: one line naming the problem, exit 125', () => {
  const refused = (text: string, re: RegExp): void => {
    try {
      dockerSeccompProfile(text, ctx);
      assert.unreachable(`accepted ${text}`);
    } catch (err) {
      assert.instance(err, MinidockError);
      assert.is((err as MinidockError).exitCode, 125);
      assert.match((err as Error).message, re);
      assert.not.match((err as Error).message, /\n/);
    }
  };
  refused('{', /^seccomp profile: decoding failed: /);
  refused('[]', /not a JSON object/);
  refused(profile({ architectures: ['SCMP_ARCH_X86_64'], archMap: [] }), /both 'architectures' and 'archMap' are specified/);
  refused(profile({ syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }), /syscalls\[0\]: 'name' and 'names' were specified/);
  refused(profile({ defaultAction: 'SCMP_ACT_MAYBE' }), /^seccomp profile: defaultAction "SCMP_ACT_MAYBE" is not a seccomp action/);
  refused(profile({ syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ALMOST' }] }] }), /is not a seccomp operator/);
  refused(profile({ syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: 'new' } }] }), /minKernel "new" is not a kernel version/);
  refused(profile({ syscalls: {} }), /syscalls is not a list/);
});

test('kernel versions', () => {
  assert.equal(kernelVersion('6.18.0-1-amd64'), [6, 18]);
  assert.equal(kernelVersion('4.8'), [4, 8]);
  assert.is(kernelVersion('x'), undefined);
});

test.run();
