// The image store's tar pieces (issue #15): the member table read from headers alone
// (tar-index.ts) against archives written by save.ts's ustar writer and by hand (GNU long names,
// pax headers, base-256 sizes, damaged and truncated headers); compression sniffing; docker's
// familiar names; the committed config.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { indexTar, parsePax, tarNumber, MAX_MEMBERS } from '../../src/image/tar-index.js';
import { ustarHeader } from '../../src/image/save.js';
import { sniffCompression } from '../../src/image/unpack.js';
import { familiarName } from '../../src/image/load.js';
import { committedConfig } from '../../src/image/commit.js';
import { MinidockError } from '../../src/core/errors.js';

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);
const member = (name: string, data: string, type?: string): Buffer => {
  const h = ustarHeader(name, Buffer.byteLength(data));
  if (type) {
    h[156] = type.charCodeAt(0);
    // The checksum again, for the changed type byte.
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 8, 'utf8');
  }
  return Buffer.concat([h, Buffer.from(data), pad(Buffer.byteLength(data))]);
};
const archive = (...parts: Buffer[]): Buffer => Buffer.concat([...parts, Buffer.alloc(1024)]);
const index = (b: Buffer) => indexTar((pos, len) => b.subarray(pos, pos + len), b.length);
const fails = (fn: () => unknown, re: RegExp): void => {
  try {
    fn();
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable('no error');
};

test('indexTar: offsets and sizes of each member, as written by the ustar writer; data read in place', () => {
  const b = archive(member('manifest.json', '[{"a":1}]'), member('abc/layer.tar', 'x'.repeat(700)));
  const m = index(b);
  assert.equal(m.map((x) => [x.name, x.type, x.size]), [['manifest.json', '0', 9], ['abc/layer.tar', '0', 700]]);
  assert.is(b.toString('utf8', m[0]!.offset, m[0]!.offset + m[0]!.size), '[{"a":1}]');
  assert.is(m[1]!.offset, 512 * 3, 'after the first header, its one data block, and its own header');
});

test('indexTar: a GNU long name (L) and a pax path (x) name the member that follows; pax size wins', () => {
  const long = `${'d/'.repeat(80)}file`;
  const b = archive(member('././@LongLink', long + '\0', 'L'), member('short', 'one'), member('PaxHeaders/x', parsePaxRecord('path', 'pax/name.json') + parsePaxRecord('size', '2'), 'x'), member('ignored', 'hi'));
  const m = index(b);
  assert.equal(m.map((x) => x.name), [long, 'pax/name.json']);
  assert.is(m[1]!.size, 2);
});

function parsePaxRecord(k: string, v: string): string {
  const body = ` ${k}=${v}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

test('parsePax: records with their lengths; a malformed one is refused', () => {
  assert.equal(parsePax(parsePaxRecord('path', 'a b=c') + parsePaxRecord('linkpath', 'x')), { path: 'a b=c', linkpath: 'x' });
  fails(() => parsePax('99 path=x\n'), /pax header record is malformed/);
});

test('tarNumber: octal, blank, and base-256 for sizes past 8 GiB', () => {
  const b = Buffer.alloc(12);
  b.write('00000001750\0');
  assert.is(tarNumber(b, 0, 12), 0o1750);
  assert.is(tarNumber(Buffer.alloc(12), 0, 12), 0);
  const big = Buffer.alloc(12);
  big[0] = 0x80;
  big.writeUIntBE(10 * 1024 ** 3, 6, 6);
  assert.is(tarNumber(big, 0, 12), 10 * 1024 ** 3);
});

test('indexTar: not a tar, a damaged header, a truncated member: one-line errors naming it', () => {
  fails(() => index(Buffer.from('{"not":"a tar"}'.padEnd(1024))), /it is not a tar archive/);
  const good = archive(member('a', 'x'), member('b', 'y'));
  const damaged = Buffer.from(good);
  damaged[1024 + 3] ^= 1; // a byte of the second header's name
  fails(() => index(damaged), /header at byte 1024 is damaged/);
  const cut = member('a', 'x'.repeat(2000)).subarray(0, 1000);
  fails(() => index(cut), /runs past the end of the file/);
  assert.ok(MAX_MEMBERS >= 100_000, 'room for real images');
});

test('sniffCompression: gzip, zstd, xz by their magic; anything else is a plain tar', () => {
  assert.is(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0])), 'gzip');
  assert.is(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])), 'zstd');
  assert.is(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0])), 'xz');
  assert.is(sniffCompression(Buffer.from('etc/\0\0\0\0')), 'none');
  assert.is(sniffCompression(Buffer.alloc(8)), 'none');
});

test("familiarName: Docker Hub's names as docker shows them; others unchanged", () => {
  assert.is(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.is(familiarName('docker.io/team/app:1'), 'team/app:1');
  assert.is(familiarName('docker.io/library/a/b:1'), 'library/a/b:1');
  assert.is(familiarName('localhost:5000/web:1'), 'localhost:5000/web:1');
  assert.is(familiarName('busybox:1'), 'busybox:1');
});

test('committedConfig: the diff id appended, --change applied over the image config, a history step, author and created', () => {
  const base = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['A=1'], Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: ['sha256:aa'] }, history: [{ created_by: 'base' }] });
  const out = JSON.parse(committedConfig(base, 'sha256:bb', { changes: ['CMD ["cat", "/x"]', 'ENV B=2'], message: 'msg', author: 'me', createdBy: 'sh -c x', now: '2026-12-02T00:00:00Z' }));
  assert.equal(out.rootfs.diff_ids, ['sha256:aa', 'sha256:bb']);
  assert.equal(out.config.Cmd, ['cat', '/x']);
  assert.equal(out.config.Env, ['A=1', 'B=2']);
  assert.is(out.author, 'me');
  assert.is(out.created, '2026-12-02T00:00:00Z');
  assert.equal(out.history.at(-1), { created: '2026-12-02T00:00:00Z', created_by: 'sh -c x', author: 'me', comment: 'msg' });
  assert.is(out.architecture, 'amd64');
});

test.run();
