// The part of Go's text/template that people use with `docker inspect --format` and
// `docker ps --format`, run over plain JSON-like data. Pure.
//
// Supported:
//   text around actions           id={{.Id}}
//   fields, nested, on variables  {{.State.Pid}}  {{$.Name}}  {{$v.IPAddress}}  {{(index .A 0).B}}
//   map keys as fields            {{.Namespaces.net}}  (any object key made of letters, digits, _)
//   pipelines and parentheses     {{.Name | upper}}  {{len (index .NetworkSettings.Ports "80/tcp")}}
//   variables                     {{$ip := .NetworkSettings.IPAddress}}{{$ip}}  {{$ip = "x"}}
//   control                       if / else if / else, with / else with / else, range / else,
//                                 range $i, $v := ..., break, continue, end
//   comments and trim markers     {{/* note */}}  {{- .X -}}
//   literals                      "Go \"quoted\"\n"  `raw`  42  -1.5  0x1F  true  false  nil
//   functions                     docker's own: json split join title lower upper pad truncate;
//                                 Go's: index slice len print printf println not and or eq ne lt le gt ge
//
// Printing follows Go's fmt %v on the decoded JSON: strings as they are, numbers as JSON has them,
// true/false, null as <nil>, arrays as [a b c], objects as map[k1:v1 k2:v2] with keys sorted.
// A missing key prints <no value>, and so does any field below it; with `strict` (what
// `inspect` and the list commands pass), a missing key of an object that stands for one of
// docker's Go structs is an error, as docker's is (`map has no entry for key "Foo"`, what its
// raw-JSON fallback says), while one of an object marked with goMap() (Labels, Ports: Go maps)
// still prints <no value>. goOptional() names struct fields that exist but may be left out of
// the JSON (docker's omitempty): missing, they are nil, not an error.
//
// Where this differs from docker:
//   - docker runs the template over its Go structs first: a struct prints as {v1 v2} and a nil
//     slice as [], where this prints map[...] and <nil>.
//   - eq/ne between values of different kinds are simply false, not an error.
//   - printf knows the verbs %v %s %d %q %t %x %X %f %e %g %c %% with flags, width and precision.
//   - {{define}}, {{template}} and {{block}} are refused.
// Every parse or execution error is a usage error worded as docker's:
//   template parsing error: template: :LINE: function "foo" not defined
import { usageError } from '../core/errors.js';
import { goQuote } from './format.js';

const PREFIX = 'template parsing error: template: ';

function parseError(line: number, msg: string): never {
  throw usageError(`${PREFIX}:${line}: ${msg}`);
}

// ---- lexer -----------------------------------------------------------------------------------

type TokKind = 'field' | 'dot' | 'var' | 'ident' | 'string' | 'number' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma';

interface Tok {
  kind: TokKind;
  /** Field and identifier names, variable names with their `$`, decoded string literals. */
  text: string;
  num?: number;
  pos: number;
  end: number;
  /** Whitespace (or the action's start) came right before it: `.A .B` is two operands, `.A.B` one. */
  spaced: boolean;
}

type Item = { kind: 'text'; text: string } | { kind: 'action'; toks: Tok[]; pos: number; line: number };

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const IDENT_START = /[\p{L}_]/u;
const IDENT_CHAR = /[\p{L}\p{N}_]/u;
const NUMBER = /^[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)/;

function lineAt(src: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src[i] === '\n') line++;
  return line;
}

function readIdent(src: string, from: number): number {
  let p = from;
  while (p < src.length && IDENT_CHAR.test(src[p] as string)) p++;
  return p;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'",
};

/** A Go interpreted string literal starting at src[start] === '"': its value and end. */
function readQuoted(src: string, start: number, line: number): { value: string; end: number } {
  let p = start + 1;
  let out = '';
  for (;;) {
    const c = src[p];
    if (c === undefined || c === '\n') parseError(line, 'unterminated quoted string');
    if (c === '"') return { value: out, end: p + 1 };
    if (c !== '\\') {
      out += c;
      p++;
      continue;
    }
    const e = src[p + 1] ?? '';
    if (SIMPLE_ESCAPES[e] !== undefined) {
      out += SIMPLE_ESCAPES[e];
      p += 2;
      continue;
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const hex = src.slice(p + 2, p + 2 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) parseError(line, 'invalid syntax in quoted string');
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) parseError(line, 'invalid syntax in quoted string');
      out += String.fromCodePoint(code);
      p += 2 + hexLen;
      continue;
    }
    const oct = src.slice(p + 1, p + 4);
    if (/^[0-7]{3}$/.test(oct) && parseInt(oct, 8) <= 255) {
      out += String.fromCharCode(parseInt(oct, 8));
      p += 4;
      continue;
    }
    parseError(line, 'invalid syntax in quoted string');
  }
}

/** Lexes one action's body from `p` (just after `{{` and any `- `) to its `}}`. */
function lexAction(src: string, p: number, line: number): { toks: Tok[]; end: number; trimRight: boolean } {
  const toks: Tok[] = [];
  let spaced = true;
  const push = (kind: TokKind, text: string, pos: number, end: number, num?: number): void => {
    toks.push({ kind, text, pos, end, spaced, ...(num === undefined ? {} : { num }) });
    spaced = false;
  };
  for (;;) {
    const c = src[p];
    if (c === undefined) parseError(line, 'unclosed action');
    if (isSpace(c)) {
      // ` -}}`: the right trim marker needs the space before it, as in Go.
      if (src.startsWith('-}}', p + 1)) return { toks, end: p + 4, trimRight: true };
      spaced = true;
      p++;
      continue;
    }
    if (src.startsWith('}}', p)) return { toks, end: p + 2, trimRight: false };
    const start = p;
    const num = NUMBER.exec(src.slice(p));
    if ((c === '.' || c === '-' || c === '+' || (c >= '0' && c <= '9')) && num) {
      const text = num[0];
      p += text.length;
      if (p < src.length && IDENT_CHAR.test(src[p] as string)) parseError(line, `bad number syntax: "${text}${src[p]}"`);
      const sign = text.startsWith('-') ? -1 : 1;
      const digits = text.replace(/^[+-]/, '');
      push('number', text, start, p, sign * Number(digits));
      continue;
    }
    if (c === '.') {
      if (p + 1 < src.length && IDENT_START.test(src[p + 1] as string)) {
        p = readIdent(src, p + 1);
        push('field', src.slice(start + 1, p), start, p);
      } else {
        p++;
        push('dot', '.', start, p);
      }
      continue;
    }
    if (c === '$') {
      p = readIdent(src, p + 1);
      push('var', src.slice(start, p), start, p);
      continue;
    }
    if (IDENT_START.test(c)) {
      p = readIdent(src, p);
      push('ident', src.slice(start, p), start, p);
      continue;
    }
    if (c === '"') {
      const q = readQuoted(src, p, line);
      p = q.end;
      push('string', q.value, start, p);
      continue;
    }
    if (c === '`') {
      const close = src.indexOf('`', p + 1);
      if (close < 0) parseError(line, 'unterminated raw quoted string');
      p = close + 1;
      push('string', src.slice(start + 1, close), start, p);
      continue;
    }
    const single: Record<string, TokKind> = { '|': 'pipe', '(': 'lparen', ')': 'rparen', ',': 'comma', '=': 'assign' };
    if (single[c] !== undefined) {
      p++;
      push(single[c] as TokKind, c, start, p);
      continue;
    }
    if (src.startsWith(':=', p)) {
      p += 2;
      push('declare', ':=', start, p);
      continue;
    }
    const cp = c.codePointAt(0) as number;
    parseError(line, `unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`);
  }
}

/** Splits the template into text and actions; applies trim markers; drops comments. */
function lex(src: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  let trimNext = false;
  for (;;) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (open < 0) {
      if (text) items.push({ kind: 'text', text });
      return items;
    }
    let p = open + 2;
    const line = lineAt(src, open);
    // `{{- `: the left trim marker needs the space after it.
    if (src[p] === '-' && isSpace(src[p + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '');
      p += 2;
    }
    if (text) items.push({ kind: 'text', text });
    if (src.startsWith('/*', p)) {
      const close = src.indexOf('*/', p + 2);
      if (close < 0) parseError(line, 'unclosed comment');
      p = close + 2;
      if (src.startsWith('}}', p)) {
        trimNext = false;
        i = p + 2;
      } else if (isSpace(src[p]) && src.startsWith('-}}', p + 1)) {
        trimNext = true;
        i = p + 4;
      } else {
        parseError(line, 'comment ends before closing delimiter');
      }
      continue;
    }
    const a = lexAction(src, p, line);
    items.push({ kind: 'action', toks: a.toks, pos: open, line });
    trimNext = a.trimRight;
    i = a.end;
  }
}

// ---- parser ----------------------------------------------------------------------------------

type Operand =
  | { k: 'dot' }
  | { k: 'field'; names: string[] }
  | { k: 'var'; name: string; names: string[] }
  | { k: 'pipe'; pipe: Pipe; names: string[] }
  | { k: 'fn'; name: string }
  | { k: 'lit'; value: unknown };

interface Cmd {
  args: Operand[];
  /** Source text, line and column for execution errors (`at <.Name.Foo>`). */
  src: string;
  line: number;
  col: number;
}

interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
}

interface Control {
  k: 'if' | 'with' | 'range';
  pipe: Pipe;
  list: Node[];
  elseList: Node[] | undefined;
}

type Node = { k: 'text'; text: string } | { k: 'action'; pipe: Pipe } | Control | { k: 'break' | 'continue' };

interface Stop {
  word: 'end' | 'else';
  rest: Tok[];
  line: number;
}

class Parser {
  private i = 0;
  private readonly scopes: string[][] = [['$']];
  private rangeDepth = 0;

  constructor(private readonly items: Item[], private readonly src: string) {}

  parse(): Node[] {
    const { nodes, stop } = this.list();
    if (stop) parseError(stop.line, `unexpected {{${stop.word}}}`);
    return nodes;
  }

  private list(): { nodes: Node[]; stop?: Stop } {
    const nodes: Node[] = [];
    while (this.i < this.items.length) {
      const item = this.items[this.i++] as Item;
      if (item.kind === 'text') {
        nodes.push({ k: 'text', text: item.text });
        continue;
      }
      const [first, ...rest] = item.toks;
      const word = first?.kind === 'ident' ? first.text : '';
      switch (word) {
        case 'end':
          if (rest.length) parseError(item.line, `unexpected ${describe(rest[0] as Tok)} in end`);
          return { nodes, stop: { word, rest, line: item.line } };
        case 'else':
          return { nodes, stop: { word, rest, line: item.line } };
        case 'if':
        case 'with':
        case 'range':
          nodes.push(this.control(word, rest, item.line));
          continue;
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) parseError(item.line, `{{${word}}} outside {{range}}`);
          if (rest.length) parseError(item.line, `unexpected ${describe(rest[0] as Tok)} in ${word}`);
          nodes.push({ k: word });
          continue;
        case 'define':
        case 'template':
        case 'block':
          parseError(item.line, `{{${word}}} is not supported`);
      }
      nodes.push({ k: 'action', pipe: this.pipe(item.toks, 'command', item.line) });
    }
    return { nodes };
  }

  private control(kind: 'if' | 'with' | 'range', toks: Tok[], line: number): Node {
    this.scopes.push([]);
    const pipe = this.pipe(toks, kind, line);
    if (kind === 'range') this.rangeDepth++;
    const body = this.list();
    if (kind === 'range') this.rangeDepth--;
    if (!body.stop) parseError(lineAt(this.src, this.src.length), 'unexpected EOF');
    let elseList: Node[] | undefined;
    if (body.stop.word === 'else') {
      const [next, ...more] = body.stop.rest;
      if (next && next.kind === 'ident' && next.text === kind && kind !== 'range') {
        // `{{else if}}` / `{{else with}}` chain: the nested one consumes the shared {{end}}.
        elseList = [this.control(kind, more, body.stop.line)];
      } else {
        if (next) parseError(body.stop.line, `unexpected ${describe(next)} in else`);
        const alt = this.list();
        if (!alt.stop) parseError(lineAt(this.src, this.src.length), 'unexpected EOF');
        if (alt.stop.word !== 'end') parseError(alt.stop.line, `expected end; found {{${alt.stop.word}}}`);
        elseList = alt.nodes;
      }
    }
    this.scopes.pop();
    return { k: kind, pipe, list: body.nodes, elseList };
  }

  private defined(name: string): boolean {
    return this.scopes.some((s) => s.includes(name));
  }

  private pipe(toks: Tok[], context: string, line: number): Pipe {
    let k = 0;
    const decl: string[] = [];
    let assign = false;
    const isDeclOp = (t: Tok | undefined): boolean => t?.kind === 'declare' || t?.kind === 'assign';
    if (toks[0]?.kind === 'var') {
      if (isDeclOp(toks[1])) {
        decl.push(toks[0].text);
        assign = toks[1]!.kind === 'assign';
        k = 2;
      } else if (toks[1]?.kind === 'comma' && context === 'range' && toks[2]?.kind === 'var' && isDeclOp(toks[3])) {
        decl.push(toks[0].text, toks[2].text);
        assign = toks[3]!.kind === 'assign';
        k = 4;
      } else if (toks[1]?.kind === 'comma') {
        parseError(line, `too many declarations in ${context}`);
      }
    }
    for (const name of decl) {
      if (assign && !this.defined(name)) parseError(line, `undefined variable "${name}"`);
      if (!assign) this.scopes[this.scopes.length - 1]!.push(name);
    }
    const body = toks.slice(k);
    const cmds: Cmd[] = [];
    let start = 0;
    let depth = 0;
    for (let j = 0; j <= body.length; j++) {
      const t = body[j];
      if (t?.kind === 'lparen') depth++;
      if (t?.kind === 'rparen') depth--;
      if (t === undefined || (t.kind === 'pipe' && depth === 0)) {
        const part = body.slice(start, j);
        if (part.length === 0) parseError(line, `missing value for ${context}`);
        cmds.push(this.command(part, line));
        start = j + 1;
      }
    }
    if (cmds.length === 0) parseError(line, `missing value for ${context}`);
    cmds.forEach((c, n) => {
      const a = c.args[0] as Operand;
      if (n > 0 && (a.k === 'lit' || a.k === 'dot')) parseError(line, `non executable command in pipeline stage ${n + 1}`);
    });
    return { decl, assign, cmds };
  }

  private command(toks: Tok[], line: number): Cmd {
    const args: Operand[] = [];
    let j = 0;
    while (j < toks.length) {
      const [op, next] = this.operand(toks, j, line);
      args.push(op);
      j = next;
    }
    const first = toks[0] as Tok;
    const last = toks[toks.length - 1] as Tok;
    const lineStart = this.src.lastIndexOf('\n', first.pos - 1) + 1;
    return { args, src: this.src.slice(first.pos, last.end), line: lineAt(this.src, first.pos), col: first.pos - lineStart };
  }

  /** One operand from toks[j], with the fields chained onto it; returns it and the next index. */
  private operand(toks: Tok[], j: number, line: number): [Operand, number] {
    const t = toks[j] as Tok;
    const chain = (from: number): { names: string[]; next: number } => {
      const names: string[] = [];
      let n = from;
      while (toks[n]?.kind === 'field' && !toks[n]!.spaced) names.push(toks[n++]!.text);
      return { names, next: n };
    };
    switch (t.kind) {
      case 'dot':
        return [{ k: 'dot' }, j + 1];
      case 'field': {
        const c = chain(j + 1);
        return [{ k: 'field', names: [t.text, ...c.names] }, c.next];
      }
      case 'var': {
        if (!this.defined(t.text)) parseError(line, `undefined variable "${t.text}"`);
        const c = chain(j + 1);
        return [{ k: 'var', name: t.text, names: c.names }, c.next];
      }
      case 'lparen': {
        let depth = 0;
        let close = -1;
        for (let n = j; n < toks.length; n++) {
          if (toks[n]!.kind === 'lparen') depth++;
          if (toks[n]!.kind === 'rparen' && --depth === 0) {
            close = n;
            break;
          }
        }
        if (close < 0) parseError(line, 'unclosed left paren');
        const inner = toks.slice(j + 1, close);
        if (inner.length === 0) parseError(line, 'missing value for parenthesized pipeline');
        const pipe = this.pipe(inner, 'parenthesized pipeline', line);
        if (pipe.decl.length) parseError(line, 'variable declaration in parenthesized pipeline is not supported');
        const c = chain(close + 1);
        return [{ k: 'pipe', pipe, names: c.names }, c.next];
      }
      case 'ident': {
        if (t.text === 'true' || t.text === 'false') return [{ k: 'lit', value: t.text === 'true' }, j + 1];
        if (t.text === 'nil') return [{ k: 'lit', value: null }, j + 1];
        if (!Object.hasOwn(FUNCS, t.text)) parseError(line, `function "${t.text}" not defined`);
        return [{ k: 'fn', name: t.text }, j + 1];
      }
      case 'string':
        return [{ k: 'lit', value: t.text }, j + 1];
      case 'number':
        return [{ k: 'lit', value: t.num }, j + 1];
      case 'rparen':
        parseError(line, 'unexpected right paren');
      default:
        parseError(line, `unexpected ${describe(t)} in operand`);
    }
  }
}

function describe(t: Tok): string {
  return t.kind === 'string' ? goQuote(t.text) : `"${t.kind === 'field' ? '.' + t.text : t.text}"`;
}

// ---- values ----------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go's byte-wise string order (what encoding/json and fmt use for map keys). */
const goCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

const sortedKeys = (o: Record<string, unknown>): string[] => Object.keys(o).sort(goCompare);

/** The Go type a decoded JSON value would have, for error messages. */
function goType(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** A number as Go prints it: JS writes 1e-7 and 1e+21, Go 1e-07 and 1e+21. */
function formatNumber(n: number | string): string {
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** fmt's %v. */
function fmtV(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(fmtV).join(' ')}]`;
  if (isObject(v)) return `map[${sortedKeys(v).map((k) => `${k}:${fmtV(v[k])}`).join(' ')}]`;
  return String(v);
}

/** What an action prints: fmtV, except that a missing value is `<no value>`. */
const printValue = (v: unknown): string => (v === undefined ? '<no value>' : fmtV(v));

/** Go's truth: false, 0, nil, and empty strings, arrays and maps are false. */
function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

// ---- functions -------------------------------------------------------------------------------

/** An error from a function; the executor adds where it happened. */
class CallError extends Error {}

function wantString(v: unknown): string {
  if (typeof v !== 'string') throw new CallError(`wrong type for value; expected string; got ${goType(v)}`);
  return v;
}

function wantInt(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new CallError(`wrong type for value; expected int; got ${goType(v)}`);
  return v;
}

function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    // fmt.Sprint: a space between operands when neither is a string.
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += fmtV(a);
  });
  return out;
}

/** fmt.Sprintf for the common verbs. */
function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let n = 0;
  const re = /%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])?/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags = '', widthText, precText, verb] = m;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      continue;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (n >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[n++];
    const prec = precText === undefined ? undefined : Number(precText);
    const bad = (): string => `%!${verb}(${goType(arg)}=${fmtV(arg)})`;
    let s: string;
    switch (verb) {
      case 'v':
        s = fmtV(arg);
        break;
      case 's':
        s = typeof arg === 'string' || Array.isArray(arg) || isObject(arg) ? fmtV(arg) : bad();
        if (prec !== undefined && typeof arg === 'string') s = [...s].slice(0, prec).join('');
        break;
      case 'q':
        s = typeof arg === 'string' ? goQuote(arg) : bad();
        break;
      case 't':
        s = typeof arg === 'boolean' ? fmtV(arg) : bad();
        break;
      case 'd':
        s = typeof arg === 'number' && Number.isInteger(arg) ? `${flags.includes('+') && arg >= 0 ? '+' : ''}${arg}` : bad();
        break;
      case 'c':
        s = typeof arg === 'number' && Number.isInteger(arg) ? String.fromCodePoint(arg) : bad();
        break;
      case 'x':
      case 'X': {
        let h: string;
        if (typeof arg === 'number' && Number.isInteger(arg)) h = (arg < 0 ? '-' : '') + Math.abs(arg).toString(16);
        else if (typeof arg === 'string') h = Buffer.from(arg).toString('hex');
        else {
          s = bad();
          break;
        }
        s = verb === 'X' ? h.toUpperCase() : h;
        break;
      }
      case 'f':
      case 'e':
      case 'g':
        if (typeof arg !== 'number') {
          s = bad();
          break;
        }
        s = verb === 'f' ? arg.toFixed(prec ?? 6) : verb === 'e' ? formatNumber(arg.toExponential(prec ?? 6)) : formatNumber(prec === undefined ? String(arg) : arg.toPrecision(prec));
        if (flags.includes('+') && arg >= 0) s = `+${s}`;
        break;
      default:
        s = bad();
    }
    const width = widthText === undefined ? 0 : Number(widthText);
    const len = [...s].length;
    if (len < width) {
      const pad = width - len;
      if (flags.includes('-')) s += ' '.repeat(pad);
      else if (flags.includes('0') && /^[dxXfeg]$/.test(verb) && /^[+-]?[0-9]/.test(s)) {
        const sign = /^[+-]/.test(s) ? (s[0] as string) : '';
        s = sign + '0'.repeat(pad) + s.slice(sign.length);
      } else s = ' '.repeat(pad) + s;
    }
    out += s;
  }
  out += format.slice(last);
  if (n < args.length) out += `%!(EXTRA ${args.slice(n).map((a) => `${goType(a)}=${fmtV(a)}`).join(', ')})`;
  return out;
}

/** lt, le, gt, ge: numbers with numbers, strings with strings. */
function compareBasic(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return goCompare(a, b);
  const basic = (v: unknown): boolean => typeof v === 'number' || typeof v === 'string';
  throw new CallError(basic(a) && basic(b) ? 'incompatible types for comparison' : 'invalid type for comparison');
}

function equal(a: unknown, b: unknown): boolean {
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  if (typeof a === 'object' || typeof b === 'object') {
    if (a === null || b === null) return false;
    throw new CallError('invalid type for comparison');
  }
  return a === b;
}

interface Fn {
  min: number;
  max: number;
  call: (args: unknown[]) => unknown;
}

const FUNCS: Readonly<Record<string, Fn>> = {
  // docker's (cli/templates): json without HTML escaping and without the trailing newline.
  json: { min: 1, max: 1, call: ([v]) => JSON.stringify(v ?? null) },
  split: { min: 2, max: 2, call: ([s, sep]) => splitGo(wantString(s), wantString(sep)) },
  join: {
    min: 2,
    max: 2,
    call: ([list, sep]) => {
      if (!Array.isArray(list)) throw new CallError(`wrong type for value; expected []string; got ${goType(list)}`);
      return list.map(wantString).join(wantString(sep));
    },
  },
  title: { min: 1, max: 1, call: ([s]) => wantString(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, a: string, b: string) => a + b.toUpperCase()) },
  lower: { min: 1, max: 1, call: ([s]) => wantString(s).toLowerCase() },
  upper: { min: 1, max: 1, call: ([s]) => wantString(s).toUpperCase() },
  pad: {
    min: 3,
    max: 3,
    call: ([s, before, after]) => {
      const str = wantString(s);
      const b = wantInt(before);
      const a = wantInt(after);
      return str === '' ? '' : ' '.repeat(Math.max(b, 0)) + str + ' '.repeat(Math.max(a, 0));
    },
  },
  truncate: {
    min: 2,
    max: 2,
    call: ([s, n]) => {
      const str = wantString(s);
      const len = wantInt(n);
      return str.length < len ? str : str.slice(0, Math.max(len, 0));
    },
  },
  // Go's builtins.
  slice: {
    min: 1,
    max: 3,
    call: ([item, ...ix]) => {
      const n = ix.map(wantInt);
      if (typeof item === 'string' || Array.isArray(item)) {
        const len = typeof item === 'string' ? Buffer.byteLength(item) : item.length;
        const [from = 0, to = len] = n;
        if (from < 0 || to > len || from > to) throw new CallError(`index out of range: ${from}:${to}`);
        return typeof item === 'string' ? Buffer.from(item).subarray(from, to).toString() : item.slice(from, to);
      }
      throw new CallError(`can't slice item of type ${goType(item)}`);
    },
  },
  index: { min: 1, max: Infinity, call: ([item, ...keys]) => keys.reduce(indexOne, item) },
  len: {
    min: 1,
    max: 1,
    call: ([v]) => {
      if (typeof v === 'string') return Buffer.byteLength(v);
      if (Array.isArray(v)) return v.length;
      if (isObject(v)) return Object.keys(v).length;
      throw new CallError(`len of type ${goType(v)}`);
    },
  },
  print: { min: 0, max: Infinity, call: (args) => sprint(args) },
  println: { min: 0, max: Infinity, call: (args) => `${args.map(fmtV).join(' ')}\n` },
  printf: { min: 1, max: Infinity, call: ([f, ...args]) => sprintf(wantString(f), args) },
  not: { min: 1, max: 1, call: ([v]) => !truth(v) },
  and: { min: 1, max: Infinity, call: (args) => args.find((a) => !truth(a)) ?? args[args.length - 1] },
  or: { min: 1, max: Infinity, call: (args) => args.find((a) => truth(a)) ?? args[args.length - 1] },
  eq: { min: 2, max: Infinity, call: ([a, ...bs]) => bs.some((b) => equal(a, b)) },
  ne: { min: 2, max: 2, call: ([a, b]) => !equal(a, b) },
  lt: { min: 2, max: 2, call: ([a, b]) => compareBasic(a, b) < 0 },
  le: { min: 2, max: 2, call: ([a, b]) => compareBasic(a, b) <= 0 },
  gt: { min: 2, max: 2, call: ([a, b]) => compareBasic(a, b) > 0 },
  ge: { min: 2, max: 2, call: ([a, b]) => compareBasic(a, b) >= 0 },
};

/** strings.Split: an empty separator splits into characters. */
function splitGo(s: string, sep: string): string[] {
  return sep === '' ? [...s] : s.split(sep);
}

function indexOne(item: unknown, key: unknown): unknown {
  if (item === undefined || item === null) throw new CallError('index of untyped nil');
  if (Array.isArray(item) || typeof item === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) throw new CallError(`cannot index slice/array with type ${goType(key)}`);
    const len = typeof item === 'string' ? Buffer.byteLength(item) : item.length;
    if (key < 0 || key >= len) throw new CallError(`index out of range: ${key}`);
    return typeof item === 'string' ? Buffer.from(item)[key] : item[key];
  }
  if (isObject(item)) {
    if (typeof key !== 'string') throw new CallError(`value has type ${goType(key)}; should be string`);
    return Object.hasOwn(item, key) ? item[key] : undefined;
  }
  throw new CallError(`can't index item of type ${goType(item)}`);
}

// ---- executor --------------------------------------------------------------------------------

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

const GO_MAP = Symbol('go map');
const GO_OPTIONAL = Symbol('go optional fields');

/** Marks an object as a Go map: under `strict`, a missing key still prints <no value>. Symbol
 *  keys are not serialised, so the JSON output is unchanged. Returns the object. */
export function goMap<T extends object>(o: T): T {
  Object.defineProperty(o, GO_MAP, { value: true });
  return o;
}

/** Names fields of a struct-like object that may be absent (docker's omitempty): under
 *  `strict` they are nil when missing, not an error. Returns the object. */
export function goOptional<T extends object>(o: T, ...keys: string[]): T {
  Object.defineProperty(o, GO_OPTIONAL, { value: keys });
  return o;
}

function mayLack(o: Record<string, unknown>, key: string): boolean {
  const tagged = o as Record<symbol, unknown>;
  return tagged[GO_MAP] === true || ((tagged[GO_OPTIONAL] as string[] | undefined)?.includes(key) ?? false);
}

class Exec {
  out = '';
  private readonly vars: Array<[string, unknown]>;

  constructor(root: unknown, private readonly strict = false) {
    this.vars = [['$', root]];
  }

  walk(nodes: Node[], dot: unknown): void {
    for (const n of nodes) {
      switch (n.k) {
        case 'text':
          this.out += n.text;
          break;
        case 'action': {
          const v = this.pipe(n.pipe, dot);
          if (n.pipe.decl.length === 0) this.out += printValue(v);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.pipe(n.pipe, dot);
          if (truth(v)) this.walk(n.list, n.k === 'with' ? v : dot);
          else if (n.elseList) this.walk(n.elseList, dot);
          this.vars.length = mark;
          break;
        }
        case 'range':
          this.range(n, dot);
          break;
        case 'break':
          throw BREAK;
        case 'continue':
          throw CONTINUE;
      }
    }
  }

  private range(n: Control, dot: unknown): void {
    const mark = this.vars.length;
    // The pipeline's own declarations are bound per element, not to the pipeline's value.
    const v = this.pipe({ ...n.pipe, decl: [] }, dot);
    let entries: Array<[unknown, unknown]>;
    if (Array.isArray(v)) entries = v.map((e, i) => [i, e]);
    else if (isObject(v)) entries = sortedKeys(v).map((k) => [k, v[k]]);
    else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({ length: Math.max(v, 0) }, (_, i) => [i, i]);
    else if (v === undefined || v === null) entries = [];
    else throw this.error(n.pipe.cmds[0] as Cmd, `range can't iterate over ${fmtV(v)}`);
    if (entries.length === 0) {
      if (n.elseList) this.walk(n.elseList, dot);
      this.vars.length = mark;
      return;
    }
    for (const [key, elem] of entries) {
      this.vars.length = mark;
      const [a, b] = n.pipe.decl;
      if (a !== undefined && b !== undefined) {
        this.setVar(a, key, n.pipe.assign);
        this.setVar(b, elem, n.pipe.assign);
      } else if (a !== undefined) {
        this.setVar(a, elem, n.pipe.assign);
      }
      try {
        this.walk(n.list, elem);
      } catch (err) {
        if (err === BREAK) break;
        if (err !== CONTINUE) throw err;
      }
    }
    this.vars.length = mark;
  }

  private setVar(name: string, value: unknown, assign: boolean): void {
    if (assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        if (this.vars[i]![0] === name) {
          this.vars[i]![1] = value;
          return;
        }
      }
    }
    this.vars.push([name, value]);
  }

  private lookup(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]![0] === name) return this.vars[i]![1];
    return undefined;
  }

  private pipe(p: Pipe, dot: unknown): unknown {
    let value: unknown;
    p.cmds.forEach((c, i) => {
      value = this.command(c, dot, i === 0 ? [] : [value]);
    });
    for (const name of p.decl) this.setVar(name, value, p.assign);
    return value;
  }

  private command(c: Cmd, dot: unknown, final: unknown[]): unknown {
    const [first, ...rest] = c.args as [Operand, ...Operand[]];
    if (first.k !== 'fn') {
      const v = this.operand(first, dot, c);
      // A method of the data (docker's `{{.Label "com.example"}}` on ps rows): a JS function
      // found as a field, called with the arguments, as Go calls a method.
      if (typeof v === 'function' && first.k === 'field') {
        const args = [...rest.map((a) => this.operand(a, dot, c)), ...final];
        try {
          return (v as (...a: unknown[]) => unknown)(...args);
        } catch (err) {
          throw this.error(c, `error calling ${first.names.at(-1)}: ${(err as Error).message}`);
        }
      }
      if (rest.length > 0 || final.length > 0) throw this.error(c, `can't give argument to non-function ${c.src.split(/\s/)[0]}`);
      return v;
    }
    const fn = FUNCS[first.name] as Fn;
    // Go passes a missing value to a function as nil.
    const args = [...rest.map((a) => this.operand(a, dot, c)), ...final].map((a) => (a === undefined ? null : a));
    if (args.length < fn.min || args.length > fn.max) {
      const want = fn.min === fn.max ? `${fn.min}` : `at least ${fn.min}`;
      throw this.error(c, `wrong number of args for ${first.name}: want ${want} got ${args.length}`);
    }
    try {
      return fn.call(args);
    } catch (err) {
      if (err instanceof CallError) throw this.error(c, `error calling ${first.name}: ${err.message}`);
      throw err;
    }
  }

  private operand(op: Operand, dot: unknown, c: Cmd): unknown {
    switch (op.k) {
      case 'dot':
        return dot;
      case 'lit':
        return op.value;
      case 'field':
        return this.fields(dot, op.names, c);
      case 'var':
        return this.fields(this.lookup(op.name), op.names, c);
      case 'pipe':
        return this.fields(this.pipe(op.pipe, dot), op.names, c);
      case 'fn':
        return this.command({ ...c, args: [op] }, dot, []);
    }
  }

  private fields(v: unknown, names: string[], c: Cmd): unknown {
    let cur = v;
    for (const name of names) {
      if (cur === undefined || cur === null) return undefined;
      if (!isObject(cur)) throw this.error(c, `can't evaluate field ${name} in type ${goType(cur)}`);
      if (Object.hasOwn(cur, name)) cur = cur[name];
      else if (this.strict && !mayLack(cur, name)) throw this.error(c, `map has no entry for key ${goQuote(name)}`);
      else cur = undefined;
    }
    return cur;
  }

  private error(c: Cmd, msg: string): Error {
    return usageError(`${PREFIX}:${c.line}:${c.col}: executing "" at <${c.src}>: ${msg}`);
  }
}

/**
 * Renders a Go template over JSON-like data (what JSON.parse returns, or objects of the same
 * shape). Throws a usage error for a template that does not parse or fails while running.
 */
export function renderTemplate(tpl: string, data: unknown, opts: { strict?: boolean } = {}): string {
  const tree = new Parser(lex(tpl), tpl).parse();
  const exec = new Exec(data, opts.strict);
  try {
    exec.walk(tree, data);
  } catch (err) {
    if (err === BREAK || err === CONTINUE) return exec.out; // unreachable: the parser forbids them outside range
    throw err;
  }
  return exec.out;
}

/** Parses without running: lets a command reject a bad --format before doing any work. */
export function checkTemplate(tpl: string): void {
  new Parser(lex(tpl), tpl).parse();
}
