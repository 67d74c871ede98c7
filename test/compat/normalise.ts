// The compat harness's normalisation: what legitimately differs between docker's output and
// minidock's for the same command, rewritten to one form before the two are compared. Pure.
//
// Each rule names what it hides and why. A rule must never hide a real difference: each has a
// unit test (test/unit/compat-normalise.test.ts) that shows what it rewrites and, as important,
// what it leaves alone. Nothing else is rewritten: message wording, columns, exit codes and
// blank lines all count.

export interface Rule {
  name: string;
  /** Why the difference is legitimate. */
  why: string;
  apply(text: string, ctx: NormaliseContext): string;
}

export interface NormaliseContext {
  /** The CLI's program name as it prefixes its errors: `docker` or `minidock`. */
  program: string;
  /** Container and image ids this run created (full, 64 hex), longest first is not required. */
  ids?: string[];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const RULES: Rule[] = [
  {
    name: 'ids',
    why: 'container, image and network ids are random (or content digests of different bytes); their length and place still count',
    apply: (t) => t.replace(/\b(sha256:)?[0-9a-f]{64}\b/g, (_m, p: string | undefined) => `${p ?? ''}<ID64>`).replace(/\b[0-9a-f]{12}\b/g, '<ID12>'),
  },
  {
    name: 'times',
    why: 'creation and start times differ between two runs; the format still counts (RFC 3339 stays one token)',
    apply: (t) => t
      .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g, '<TIME>')
      .replace(/\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \w+/g, '<TIME>'),
  },
  {
    name: 'ago',
    why: '"5 seconds ago" and "Up 3 seconds" depend on when the command ran, not on the engine',
    apply: (t) => t
      .replace(/\b(About a minute|About an hour|Less than a second|\d+ (seconds?|minutes?|hours?|days?|weeks?|months?|years?))( ago)?\b/g, '<DURATION>$3'),
  },
  {
    name: 'ephemeral-ports',
    why: 'a random host port (-P, -p 80) is whatever the kernel chose: 32768-60999 on Linux',
    apply: (t) => t.replace(/(0\.0\.0\.0|127\.0\.0\.1|\[::\]|::):(3[2-9]\d{3}|[4-5]\d{4}|60\d{3})\b/g, '$1:<EPHEMERAL>')
      .replace(/"HostPort":\s*"(3[2-9]\d{3}|[4-5]\d{4}|60\d{3})"/g, '"HostPort":"<EPHEMERAL>"'),
  },
  {
    name: 'program',
    why: 'errors start with the program\'s name ("docker: ...", "minidock: ..."); what follows is compared',
    apply: (t, c) => t.replace(new RegExp(`^${escape(c.program)}: `, 'gm'), '<CLI>: '),
  },
  {
    name: 'trailing-space',
    why: 'table columns are padded to the widest cell; trailing blanks at the end of a line carry nothing',
    apply: (t) => t.replace(/[ \t]+$/gm, ''),
  },
  {
    name: 'column-widths',
    why: 'table columns are as wide as their widest cell, which differs when ids or times differ; the cells and their order count',
    apply: (t) => t.split('\n').map((l) => (/ {3,}/.test(l) ? l.replace(/ {2,}/g, '  ') : l)).join('\n'),
  },
];

/** The text with every rule applied in order. */
export function normalise(text: string, ctx: NormaliseContext, rules: Rule[] = RULES): string {
  return rules.reduce((t, r) => r.apply(t, ctx), text);
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export type Verdict = 'same' | 'accepted' | 'wrong';

/**
 * Compares one case's outcomes. `compare` says what the case checks ('all': exit code, stdout
 * and stderr; 'code+stdout': stderr wording aside; 'code': the exit status only). An
 * `accepted` reason turns a difference into a documented one.
 */
export function judge(docker: Outcome, minidock: Outcome, o: { compare?: 'all' | 'code+stdout' | 'code'; accepted?: string }): { verdict: Verdict; diff: string[] } {
  const d = { code: docker.code, stdout: normalise(docker.stdout, { program: 'docker' }), stderr: normalise(docker.stderr, { program: 'docker' }) };
  const m = { code: minidock.code, stdout: normalise(minidock.stdout, { program: 'minidock' }), stderr: normalise(minidock.stderr, { program: 'minidock' }) };
  const compare = o.compare ?? 'code+stdout';
  const diff: string[] = [];
  if (d.code !== m.code) diff.push(`exit ${d.code} vs ${m.code}`);
  if (compare !== 'code' && d.stdout !== m.stdout) diff.push('stdout');
  if (compare === 'all' && d.stderr !== m.stderr) diff.push('stderr');
  if (!diff.length) return { verdict: 'same', diff };
  return { verdict: o.accepted ? 'accepted' : 'wrong', diff };
}
