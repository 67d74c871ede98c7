// docker's --format for list commands (ps, and any command that lists rows): a Go template run
// once per row (strict: a field the rows do not have is an error, exit 1), or, with a `table` prefix, a header row and aligned columns. Pure.
//
// As docker's cli/command/formatter does: `\t` and `\n` written literally in the flag become a tab
// and a newline; the header of a `table` format is the same template run over the column names
// (so `table {{.ID}}\t{{.Names}}` heads its columns CONTAINER ID and NAMES); cells are the parts
// between tabs, aligned like the default table; `table` alone is the default table.
import { MinidockError } from '../core/errors.js';
import { renderTable } from './format.js';
import { checkTemplate, renderTemplate } from './go-template.js';

const PREFIX = /^template parsing error: /;

/** docker's words: "failed to parse template: ..." and "failed to execute template: ...", exit 1. */
function templateError(what: 'parse' | 'execute', err: unknown): MinidockError {
  return new MinidockError(`failed to ${what} template: ${(err as Error).message.replace(PREFIX, '')}`, { step: 'cli.format', exitCode: 1 });
}

export interface ListFormat {
  /** The template without its `table` prefix, escapes replaced. */
  template: string;
  table: boolean;
}

/** Parses --format: throws docker's template parsing error at once, before any work. */
export function parseListFormat(format: string): ListFormat {
  const table = /^table(\s|$)/.test(format);
  const body = (table ? format.slice(5) : format).trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  try {
    checkTemplate(body);
  } catch (err) {
    throw templateError('parse', err);
  }
  return { template: body, table };
}

/** The output of `rows` under `f`; `headers` names each field's column. `table` alone gives
 *  `defaultTable`, the command's usual output. */
export function renderList(f: ListFormat, rows: object[], headers: Record<string, string>, defaultTable: string): string {
  if (f.table && f.template === '') return defaultTable;
  // Strict, as docker's typed rows: a misspelt field is an error, not <no value>.
  let lines: string[];
  try {
    lines = rows.map((r) => renderTemplate(f.template, r, { strict: true }));
  } catch (err) {
    throw templateError('execute', err);
  }
  if (!f.table) return lines.map((l) => `${l}\n`).join('');
  const cells = [renderTemplate(f.template, headers), ...lines].map((l) => l.split('\t'));
  return renderTable(cells[0]!, cells.slice(1));
}

/** True when the template reads `field` (ps computes .Size only when asked, as docker does). */
export function mentions(f: ListFormat, field: string): boolean {
  return new RegExp(`\\.${field}\\b`).test(f.template) || /\{\{\s*json\s+\.\s*\}\}/.test(f.template);
}
