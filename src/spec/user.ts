// docker's `-u/--user` flag: parsing `user[:group]` and resolving it against the image's
// /etc/passwd and /etc/group the way runc's user.GetExecUser does. Pure: the files' text is
// passed in by the caller.

import { usageError } from '../core/errors.js';

export interface UserSpec {
  user: string;
  group?: string;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** 2^32-1 is (uid_t)-1, which the kernel reads as "leave unchanged": never a real id. */
export const MAX_ID = 2 ** 32 - 2;

const NUMERIC = /^[0-9]+$/;
/**
 * Names as shadow-utils accepts them: no leading '-' (it would read as an option), no ':'
 * (the passwd field separator), no whitespace; a trailing '$' is allowed for Samba machine
 * accounts. Digits-only strings are ids, handled before this.
 */
const NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/;
const NAME_MAX = 256;

/** A decimal id within range, or null. Leading zeros read as decimal, as runc's Atoi does. */
export function parseId(s: string): number | null {
  if (!NUMERIC.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) && n <= MAX_ID ? n : null;
}

function validPart(s: string): boolean {
  if (NUMERIC.test(s)) return parseId(s) !== null;
  return s.length <= NAME_MAX && NAME.test(s);
}

/** `name`, `uid`, `name:group`, `uid:gid`, `uid:group`, `name:gid`; anything else is a usage error. */
export function parseUserSpec(spec: string): UserSpec {
  const parts = spec.split(':');
  const [user, group] = parts;
  const ok =
    parts.length <= 2 &&
    user !== undefined &&
    validPart(user) &&
    (group === undefined || validPart(group));
  if (!ok) {
    throw usageError(
      `invalid user spec ${JSON.stringify(spec)}`,
      'use name, uid, name:group or uid:gid',
    );
  }
  return group === undefined ? { user } : { user, group };
}

/** Lines of an /etc file that carry data: comments and blank lines are not entries. */
function dataLines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .map((l) => l.split(':'));
}

/** /etc/passwd entries; lines without a name or with a non-numeric uid/gid are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of dataLines(text)) {
    const [name = '', , uidText = '', gidText = '', gecos = '', home = '', shell = ''] = f;
    const uid = parseId(uidText);
    const gid = parseId(gidText);
    if (name === '' || uid === null || gid === null) continue;
    out.push({ name, uid, gid, gecos, home, shell });
  }
  return out;
}

/** /etc/group entries; lines without a name or with a non-numeric gid are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of dataLines(text)) {
    const [name = '', , gidText = '', memberText = ''] = f;
    const gid = parseId(gidText);
    if (name === '' || gid === null) continue;
    const members = memberText
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    out.push({ name, gid, members });
  }
  return out;
}

/**
 * Resolves a parsed spec to ids, following runc: a numeric user is always a uid (looked up
 * only for its gid and home), a name must exist in passwd; an explicit group replaces the
 * primary gid and disables supplementary groups; otherwise the user's memberships in
 * /etc/group become additionalGids. A missing file means "no entries", so only numeric ids work.
 */
export function resolveUser(spec: UserSpec, passwd: string | null, group: string | null): ResolvedUser {
  const uidArg = parseId(spec.user);
  const users = passwd === null ? [] : parsePasswd(passwd);
  const match = users.find((u) => (uidArg !== null ? u.uid === uidArg : u.name === spec.user));

  let uid: number;
  let gid = 0;
  let home: string;
  if (match !== undefined) {
    uid = match.uid;
    gid = match.gid;
    home = match.home;
  } else if (uidArg !== null) {
    uid = uidArg;
    // runc leaves HOME at "/" here; root gets /root so tools that write ~ work in scratch images.
    home = uid === 0 ? '/root' : '/';
  } else {
    throw usageError(`unable to find user ${spec.user}: no matching entries in passwd file`);
  }
  if (home === '') home = '/';

  const groups = group === null ? [] : parseGroup(group);
  let additionalGids: number[] = [];
  if (spec.group !== undefined) {
    const gidArg = parseId(spec.group);
    const g = groups.find((e) => (gidArg !== null ? e.gid === gidArg : e.name === spec.group));
    if (g !== undefined) gid = g.gid;
    else if (gidArg !== null) gid = gidArg;
    else throw usageError(`unable to find group ${spec.group}: no matching entries in group file`);
  } else if (match !== undefined) {
    additionalGids = groups.filter((e) => e.members.includes(match.name)).map((e) => e.gid);
  }
  // docker puts the primary gid first among the supplementary groups (moby's getUser), so a
  // process keeps its group's access after a setgid program or newgrp changes its gid.
  return { uid, gid, additionalGids: [...new Set([gid, ...additionalGids])], home };
}
