import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mentions, parseListFormat, renderList } from '../../src/runtime/list-format.js';

const rows = [{ ID: 'abc', Names: 'web', Status: 'Up 2 seconds' }, { ID: 'defdefdef', Names: 'db', Status: 'Exited (0)' }];
const headers = { ID: 'CONTAINER ID', Names: 'NAMES', Status: 'STATUS' };

test('a plain template: one line per row, no header', () => {
  assert.is(renderList(parseListFormat('{{.Names}}'), rows, headers, 'DEFAULT'), 'web\ndb\n');
  assert.is(renderList(parseListFormat('{{.ID}}'), [], headers, 'DEFAULT'), '');
});

test('table: the header is the template over the column names, cells aligned as the default table', () => {
  const out = renderList(parseListFormat('table {{.ID}}\\t{{.Names}}'), rows, headers, 'DEFAULT');
  assert.is(out, 'CONTAINER ID   NAMES\nabc            web\ndefdefdef      db\n');
  // Text around the fields is in the header too (docker runs the same template over the names).
  assert.is(renderList(parseListFormat('table id={{.ID}}'), rows.slice(0, 1), headers, ''), 'id=CONTAINER ID\nid=abc\n');
});

test('table alone is the command\'s default output; \\t and \\n typed literally are a tab and a newline', () => {
  assert.is(renderList(parseListFormat('table'), rows, headers, 'DEFAULT'), 'DEFAULT');
  assert.is(renderList(parseListFormat('{{.ID}}\\t{{.Names}}'), rows.slice(0, 1), headers, ''), 'abc\tweb\n');
  assert.is(renderList(parseListFormat('{{.ID}}\\n{{.Names}}'), rows.slice(0, 1), headers, ''), 'abc\nweb\n');
  // A word that merely starts with "table" is a template, not the keyword.
  assert.is(renderList(parseListFormat('tables {{.ID}}'), rows.slice(0, 1), headers, ''), 'tables abc\n');
});

test('a bad template is refused before any row is read', () => {
  assert.throws(() => parseListFormat('{{.Names'), /failed to parse template: template: :1: unclosed action/);
});

test('mentions: a field the template reads, or all of them through json .', () => {
  assert.ok(mentions(parseListFormat('{{.Names}} {{.Size}}'), 'Size'));
  assert.not.ok(mentions(parseListFormat('{{.Names}}'), 'Size'));
  assert.not.ok(mentions(parseListFormat('{{.Sizes}}'), 'Size'));
  assert.ok(mentions(parseListFormat('{{json .}}'), 'Size'));
});

test.run();
