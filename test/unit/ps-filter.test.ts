// Unit tests for src/runtime/ps-filter.ts: docker's `ps -f KEY=VALUE` on hand-built records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageMessage } from '../helpers/usage-error.js';
import { filterShowsAll, matchesFilter, parsePsFilters } from '../../src/runtime/ps-filter.js';
import type { ContainerRecord, ContainerState } from '../../src/runtime/state.js';
import { IDENTITY_MAP, type ContainerSpec } from '../../src/spec/container-spec.js';

const IMAGE_ID = 'b1a2'.padEnd(64, '7');

function rec(id: string, name: string, ref: string, state: ContainerState, imageId?: string): ContainerRecord {
  const spec: ContainerSpec = {
    id,
    name,
    hostname: name,
    image: { ref, ...(imageId === undefined ? {} : { id: imageId }), rootfs: '/images/x/rootfs' },
    argv: ['sh'],
    env: [],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    tty: false,
    interactive: false,
    network: { mode: 'none' },
    autoRemove: false,
    idMap: IDENTITY_MAP,
    createdAt: 0,
  };
  return { id, spec, state };
}

const id = (prefix: string): string => prefix.padEnd(64, '0');

const web = rec(id('aa11'), 'web', 'nginx:latest', { status: 'running', pid: 10 }, IMAGE_ID);
const web2 = rec(id('aa22'), 'web2', 'nginx:1.25', { status: 'exited', exitCode: 0 }, IMAGE_ID);
const db = rec(id('bb33'), 'db', 'postgres', { status: 'exited', exitCode: 137 });
const fresh = rec(id('cc44'), 'fresh', 'busybox', { status: 'created' });
const local = rec(id('dd55'), 'local', './rootfs', { status: 'created' });
const broken: ContainerRecord = { id: id('ee66'), broken: 'ENOENT' };
const ALL = [web, web2, db, fresh, local, broken];

const names = (filters: string[]): string[] => {
  const f = parsePsFilters(filters);
  return ALL.filter((r) => matchesFilter(f, r)).map((r) => r.spec?.name ?? `broken:${r.id.slice(0, 4)}`);
};

test('no filter matches everything, broken records included', () => {
  assert.equal(names([]), ['web', 'web2', 'db', 'fresh', 'local', 'broken:ee66']);
  assert.equal(names(['']), ['web', 'web2', 'db', 'fresh', 'local', 'broken:ee66'], 'an empty -f is ignored, as docker does');
});

test('status: one value, several OR-ed', () => {
  assert.equal(names(['status=running']), ['web']);
  assert.equal(names(['status=exited']), ['web2', 'db']);
  assert.equal(names(['status=created']), ['fresh', 'local']);
  assert.equal(names(['status=created', 'status=running']), ['web', 'fresh', 'local']);
});

test("status: docker's other states are valid and match nothing", () => {
  for (const s of ['paused', 'restarting', 'removing', 'dead']) assert.equal(names([`status=${s}`]), [], s);
});

test('name: a regular expression anywhere in the name, with or without the leading /', () => {
  assert.equal(names(['name=web']), ['web', 'web2']);
  assert.equal(names(['name=^web$']), ['web']);
  assert.equal(names(['name=^/web$']), ['web']);
  assert.equal(names(['name=eb2']), ['web2']);
  assert.equal(names(['name=^d']), ['db']);
  assert.equal(names(['name=l$']), ['local']);
  assert.equal(names(['name=db', 'name=fresh']), ['db', 'fresh'], 'OR-ed');
  assert.equal(names(['name=WEB']), [], 'case-sensitive, as docker');
});

test('id: a prefix of the id', () => {
  assert.equal(names(['id=aa']), ['web', 'web2']);
  assert.equal(names(['id=aa2']), ['web2']);
  assert.equal(names([`id=${id('bb33')}`]), ['db']);
  assert.equal(names(['id=a11']), [], 'not a prefix');
  assert.equal(names(['id=ee']), ['broken:ee66'], 'a broken record still has its id');
  assert.equal(names(['id=AA1']), ['web'], 'ids are hex: case does not matter');
});

test('exited: exit code of exited containers only', () => {
  assert.equal(names(['exited=0']), ['web2'], 'created and running containers have no exit code');
  assert.equal(names(['exited=137']), ['db']);
  assert.equal(names(['exited=0', 'exited=137']), ['web2', 'db']);
  assert.equal(names(['exited=+137']), ['db'], "Go's Atoi takes a sign");
  assert.equal(names(['exited=1']), []);
});

test('ancestor: the image reference as given, with the default tag, or the image id', () => {
  assert.equal(names(['ancestor=nginx']), ['web'], 'nginx means nginx:latest');
  assert.equal(names(['ancestor=nginx:latest']), ['web']);
  assert.equal(names(['ancestor=nginx:1.25']), ['web2']);
  assert.equal(names(['ancestor=postgres:latest']), ['db']);
  assert.equal(names(['ancestor=busybox']), ['fresh']);
  assert.equal(names(['ancestor=./rootfs']), ['local'], 'a directory used in place, by its path');
  assert.equal(names([`ancestor=${IMAGE_ID}`]), ['web', 'web2']);
  assert.equal(names([`ancestor=sha256:${IMAGE_ID}`]), ['web', 'web2']);
  assert.equal(names(['ancestor=b1a2']), ['web', 'web2'], 'an id prefix');
  assert.equal(names(['ancestor=alpine']), []);
  assert.equal(names(['ancestor=']), []);
});

test('different keys are AND-ed, values of one key OR-ed', () => {
  assert.equal(names(['name=web', 'status=exited']), ['web2']);
  assert.equal(names(['status=exited', 'exited=137']), ['db']);
  assert.equal(names(['status=running', 'status=exited', 'ancestor=nginx:1.25']), ['web2']);
  assert.equal(names(['id=aa', 'name=db']), []);
  assert.equal(names(['status=running', 'name=web', 'id=aa1', 'ancestor=nginx']), ['web']);
  assert.equal(names(['status=exited', 'name=broken']), [], 'a broken record has no status or name');
});

test('keys are lowercased, keys and values trimmed; a repeated value counts once', () => {
  assert.equal(names([' STATUS = running ']), ['web']);
  assert.equal(names(['Name=^db$']), ['db']);
  const f = parsePsFilters(['status=exited', 'status=exited', 'name=a=b']);
  assert.equal(f.status, ['exited']);
  assert.is(f.name[0]!.source, 'a=b', 'only the first = splits');
});

test('filterShowsAll: a status filter lists stopped containers too, as docker', () => {
  assert.is(filterShowsAll(parsePsFilters(['status=exited'])), true);
  assert.is(filterShowsAll(parsePsFilters(['name=web', 'exited=0'])), false);
  assert.is(filterShowsAll(parsePsFilters([])), false);
});

test('label=KEY and label=KEY=VALUE: every label filter must hold; paused is a status of its own', () => {
  const f = parsePsFilters(['label=tier', 'label=env=prod']);
  assert.equal(f.label, [{ key: 'tier' }, { key: 'env', value: 'prod' }]);
  const r = rec('a'.repeat(64), 'web', 'busybox', { status: 'running' });
  const labelled = (labels: Record<string, string>): ContainerRecord => ({ ...r, spec: { ...r.spec!, labels } });
  assert.ok(matchesFilter(f, labelled({ tier: '', env: 'prod' })));
  assert.not.ok(matchesFilter(f, labelled({ tier: 'x', env: 'dev' })), 'the value must match');
  assert.not.ok(matchesFilter(f, labelled({ env: 'prod' })), 'both must hold');
  assert.not.ok(matchesFilter(f, r), 'no labels');
  assert.ok(matchesFilter(parsePsFilters(['status=paused']), r, true));
  assert.not.ok(matchesFilter(parsePsFilters(['status=running']), r, true), 'a paused container is not listed as running');
  assert.ok(matchesFilter(parsePsFilters(['status=running']), r, false));
});

test('errors: bad format, unknown key, unsupported docker key, bad values', () => {
  assert.is(usageMessage(() => parsePsFilters(['status'])), 'bad format of filter (expected name=value)');
  assert.is(usageMessage(() => parsePsFilters(['name=web', 'running'])), 'bad format of filter (expected name=value)');
  assert.is(usageMessage(() => parsePsFilters(['foo=bar'])), "invalid filter 'foo'");
  assert.is(usageMessage(() => parsePsFilters(['=bar'])), "invalid filter ''");
  assert.is(usageMessage(() => parsePsFilters(['since=x'])), "filter 'since' is not supported by minidock");
  assert.is(usageMessage(() => parsePsFilters(['status=rubbish'])), "invalid filter 'status=rubbish'");
  assert.is(usageMessage(() => parsePsFilters(['status=Running'])), "invalid filter 'status=Running'");
  assert.is(usageMessage(() => parsePsFilters(['exited=abc'])), "invalid filter 'exited=abc'");
  assert.is(usageMessage(() => parsePsFilters(['exited=1.5'])), "invalid filter 'exited=1.5'");
  assert.is(usageMessage(() => parsePsFilters(['exited='])), "invalid filter 'exited='");
  assert.match(usageMessage(() => parsePsFilters(['name=web('])), /^invalid filter 'name=web\(': .*Unterminated group/);
  assert.match(usageMessage(() => parsePsFilters(['name=[a-'])), /^invalid filter 'name=\[a-': /);
});

test.run();
