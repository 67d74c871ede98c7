// `minidock run --dry-run --script`: a bash script that builds the same container with standard
// tools only (util-linux unshare, nsenter, pivot_root, mount, setpriv, setsid; iproute2;
// iptables), from the same actions as `--explain` (steps.ts), each commented with its why.
// Pure: returns the script's text.
//
// How the script is shaped, and why, where it cannot do what container.c does:
//   - container.c's child is one process that never execs until the end. A script's child is a
//     chain of programs: bash does the mounts, then execs setsid, setpriv, env and sh, each
//     loaded from the host's /usr. After pivot_root no host program can be started inside (the
//     host's files are gone), so the child first loads every program it needs, then waits in
//     `sh` on a pipe, and the host does pivot_root and the detach of the old root from outside
//     with nsenter. Then sh cds to the working directory and execs the command as PID 1.
//   - The child of `unshare --user` execs bash before the host has written its uid_map, which
//     would cost it its capabilities; `--keep-caps` keeps them, and `setpriv --reuid 0` makes
//     it the namespace's root once the map exists, as container.c's setresuid(0) does.
//   - minidock's "go" socket and report pipe are FIFOs in the container's directory.
//   - Everything the script makes on the host is undone by its EXIT trap, newest first: the
//     rules it added, the veth, cgroups, the bridge if it made it, the directory. Mounts need no
//     undoing: they all live in the container's mount namespace.
import { posix } from 'node:path';
import { usageError } from '../core/errors.js';
import type { ChildPlan } from '../runtime/child-plan.js';
import { containerSysctlCommand } from '../network/plan.js';
import {
  fileCommand, overlayOption, planActions, shLine, shWord, unshareFlag, wrap, type Action, type ExplainInput,
} from './steps.js';

type Kind = Action['kind'];
type ActionOf<K extends Kind> = Extract<Action, { kind: K }>;

/** `# why` lines, wrapped to 96 columns after `prefix` (an indent and the `#`). */
function comment(text: string, indent = '', prefix = `${indent}# `): string[] {
  return wrap(text, 96 - prefix.length).map((l) => prefix + l);
}

/** Bash helpers the script needs: static text, the same for every container. */
const HELPERS = String.raw`
die() { echo "container.sh: $*" >&2; exit 125; }

# What this script made, and how to undo it: the EXIT trap runs these newest first.
UNDO=()
later() { UNDO=("$1" "${'$'}{UNDO[@]}"); }

cleanup() {
  local rc=$? undo
  trap - EXIT INT TERM HUP
  set +e
  if [ -n "$UPID" ] && kill -0 "$UPID" 2>/dev/null; then
    [ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null
    kill -KILL "$UPID" 2>/dev/null
  fi
  [ -z "$UPID" ] || wait "$UPID" 2>/dev/null
  for undo in "${'$'}{UNDO[@]}"; do eval "$undo"; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Polls a command every 10 ms, for 10 s at most, giving up as soon as the container is gone.
wait_for() {
  local what=$1 i
  shift
  for ((i = 0; i < 1000; i++)); do
    "$@" && return 0
    [ -z "$UPID" ] || kill -0 "$UPID" 2>/dev/null || die "the container exited while waiting for $what"
    sleep 0.01
  done
  die "timed out waiting for $what"
}

# The child's pid as the host sees it: unshare --fork's only child, the container's PID 1.
find_child() {
  PID=$(cat "/proc/$UPID/task/$UPID/children" 2>/dev/null) || return 1
  PID=${'$'}{PID// /}
  [ -n "$PID" ]
}

# One line from the child on the report pipe (fd 6), waiting while it lives.
await_report() {
  local line=
  until read -r -t 1 line <&6; do kill -0 "$UPID" 2>/dev/null || die "the container exited before it reported '$1'"; done
  [ "$line" = "$1" ] || die "the container reported '$line', not '$1'"
}

# The command has replaced sh (or the container is gone already).
exec_done() { [ "$(readlink "/proc/$PID/exe" 2>/dev/null)" != "$WAITER_EXE" ]; }

# Writes a sysctl, remembering the old value for the exit trap when it changes it.
set_sysctl() {
  local old
  old=$(cat "$1")
  [ "$old" != "$2" ] || return 0
  echo "$2" >"$1"
  later "echo $old > $1"
}

# Adds an iptables rule unless it is there, and remembers to delete it: only what this script
# added is removed at exit.
add_rule() {
  local table=$1 op=$2 chain=$3
  shift 3
  iptables -t "$table" -C "$chain" "$@" 2>/dev/null && return 0
  iptables -t "$table" "-$op" "$chain" "$@"
  later "iptables -t $table -D $chain $*"
}

# The kernel destroys the veth pair with the container's network namespace, a moment after its
# last process exits: delete it only if it is still there after that.
del_veth() {
  local i
  for ((i = 0; i < 100; i++)); do ip link show dev "$1" >/dev/null 2>&1 || return 0; sleep 0.02; done
  ip link del "$1"
}

# A cgroup can be removed once its last process is gone (a moment after the kill).
rm_cgroup() {
  local i
  for ((i = 0; i < 100; i++)); do rmdir "$1" 2>/dev/null && return 0; [ -d "$1" ] || return 0; sleep 0.02; done
  rmdir "$1"
}

# The container's directory, unless something is still mounted in it (nothing should be: every
# mount lived in the container's mount namespace).
remove_dir() {
  if grep -qE " $DIR(/| )" /proc/self/mountinfo; then
    echo "container.sh: not removing $DIR: something is mounted there" >&2
    return 1
  fi
  rm -rf --one-file-system -- "$DIR"
}

# The host path of $1 (a path inside the container) under $ROOTFS, made if missing: a
# directory, or with -f a file as the last component. With -n nothing is made, and a missing
# path prints nothing. A symlink on the way is refused, as container.c's open_in_root does
# (O_NOFOLLOW one component at a time): an image's symlink must never send a mount to the host.
target() {
  local file=0 create=1
  while [ "$#" -gt 1 ]; do
    case $1 in -f) file=1 ;; -n) create=0 ;; esac
    shift
  done
  local path=$ROOTFS rest=${'$'}{1#/} comp
  while [ -n "$rest" ]; do
    comp=${'$'}{rest%%/*}
    if [ "$comp" = "$rest" ]; then rest=; else rest=${'$'}{rest#*/}; fi
    case $comp in '' | .) continue ;; ..) echo "target: $1: '..' is not allowed" >&2; return 1 ;; esac
    path=$path/$comp
    if [ -L "$path" ]; then echo "target: $1: $path is a symlink" >&2; return 1; fi
    if [ ! -e "$path" ]; then
      [ "$create" = 1 ] || return 0
      if [ -z "$rest" ] && [ "$file" = 1 ]; then : >"$path"; else mkdir -m 755 "$path"; fi
    fi
  done
  printf '%s\n' "$path"
}

# Inside a user namespace the flags a mount already has (nosuid, nodev, noexec, atime) are
# locked: a remount must repeat them or the kernel refuses it (container.c reads them with
# statvfs).
kept_flags() {
  local f out=
  for f in $(findmnt -n -o VFS-OPTIONS --mountpoint "$1" | tail -n 1 | tr , ' '); do
    case $f in nosuid | nodev | noexec | noatime | nodiratime | relatime) out+="$f," ;; esac
  done
  printf '%s' "$out"
}
`;

/** Only for remapped containers: the image copied with its owners moved through the map. */
const SHIFT_HELPERS = String.raw`
# The host id of container id $2 under map $1 ("inside outside count" lines); an id the map
# leaves out becomes the mapped nobody (65534), as src/image/shift.ts does.
host_id() {
  local inside outside count
  while read -r inside outside count; do
    if [ "$2" -ge "$inside" ] && [ "$2" -lt $((inside + count)) ]; then echo $((outside + $2 - inside)); return; fi
  done <<<"$1"
  if [ "$2" != 65534 ]; then host_id "$1" 65534; else echo 65534; fi
}

# Copies image $1 to $2 with every owner moved through the maps (tar's owner and group maps).
shift_copy() {
  local id
  for id in $(find "$1" -printf '%U\n' | sort -un); do echo "+$id +$(host_id "$UID_MAP" "$id")"; done >"$DIR/owner-map"
  for id in $(find "$1" -printf '%G\n' | sort -un); do echo "+$id +$(host_id "$GID_MAP" "$id")"; done >"$DIR/group-map"
  tar -C "$1" --numeric-owner --owner-map="$DIR/owner-map" --group-map="$DIR/group-map" -cf - . |
    tar -C "$2" --numeric-owner --same-owner -xpf -
}

# The container's root is an unprivileged host uid when it walks from / down to its layers in $1.
# Inside MINIDOCK_ROOT minidock lets only that uid's group through (0710 root:GID, see
# src/core/state-perms.ts); above it, each directory must be searchable by others.
gated() {
  local d=$1 gid
  gid=$(host_id "$GID_MAP" 0)
  while [ "$d" != / ]; do
    case $d in
      "$ROOT" | "$ROOT"/*) chgrp "$gid" "$d" && chmod 0710 "$d" ;;
      *) [ $((0$(stat -c %a "$d") & 1)) = 1 ] || die "$d is not searchable by others: the container's root could not reach its layers" ;;
    esac
    d=$(dirname "$d")
  done
}
`;

/** What sh does between being loaded and the command: the last host program of the child. */
const WAITER = (keepPwd: boolean): string[] => [
  'echo loaded >&7; exec 7>&-',
  'read -r _ <&8; exec 8<&-',
  'cd -- "$1"; shift',
  ...(keepPwd ? [] : ['unset PWD OLDPWD']),
  'exec "$@"',
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The runnable script for the container `input` describes. */
export function containerScript(input: ExplainInput): string {
  const actions = planActions(input);
  const { spec, net } = input;
  const child: ChildPlan & { idmapLower?: string } = input.child;
  const of = <K extends Kind>(kind: K): Array<ActionOf<K>> => actions.filter((a): a is ActionOf<K> => a.kind === kind);
  const at = (where: Action['at']): Action[] => actions.filter((a) => a.at === where);
  const dir = posix.dirname(child.rootfs);
  for (const e of child.env) {
    const name = e.slice(0, e.indexOf('='));
    if (!ENV_NAME.test(name)) {
      throw usageError(`--script cannot give the container the variable "${name}": sh only passes on names made of letters, digits and "_"`, 'rename it, or use minidock run');
    }
  }
  const remap = of('chown').length > 0;
  const L: string[] = [];
  const say = (...lines: string[]): void => void L.push(...lines);

  // ── header ──
  const differences = [
    ...(child.seccomp === 'default' ? ['No seccomp filter: no standard tool installs one (as --security-opt seccomp=unconfined).'] : []),
    ...(net ? [`No IPAM lease: a minidock run started meanwhile could be given ${net.attachment.ip} too.`] : []),
    ...(child.idmapLower ? ['The image is a copy with shifted owners, made at start, where minidock uses an idmapped mount (util-linux 2.38 cannot make one).'] : []),
    'pivot_root and the detach of the old root are run from outside, with nsenter: inside, no host program can run after them.',
  ];
  say(
    '#!/usr/bin/env bash',
    ...comment(`Container ${spec.name} (${spec.id.slice(0, 12)}) from image ${spec.image.ref}, built with standard tools only: util-linux (unshare, nsenter, pivot_root, mount, setpriv), iproute2 and iptables. Generated by \`minidock run --dry-run --script\` from the plans minidock runs; each comment is the why that \`minidock run --explain\` prints.`),
    '#',
    ...comment('Run it as root. It stays in the foreground like `minidock run`; Ctrl-C, or killing the container\'s PID 1, stops it, and its exit trap removes everything it made.'),
    '#',
    '# What differs from minidock:',
    ...differences.flatMap((d) => comment(`- ${d}`)),
    'set -euo pipefail',
    '',
    `DIR=${shWord(dir)}`,
    `ROOTFS=${shWord(child.rootfs)}`,
    ...(remap ? [`ROOT=${shWord(input.root ?? dir)}`, `UID_MAP=${shWord(child.uidMap)}`, `GID_MAP=${shWord(child.gidMap)}`] : []),
    'PID=   # the container\'s PID 1, as the host sees it',
    'UPID=  # unshare, its parent, which made the namespaces',
    'WAITER_EXE=',
  );
  say(...HELPERS.split('\n'));
  if (child.idmapLower || remap) say(...SHIFT_HELPERS.split('\n'));

  // ── the child: two functions, run inside the new namespaces ──
  const go = of('go')[0]!;
  say(
    '# ── the child ──',
    '',
    ...comment('Runs in the new namespaces; becomes the container\'s PID 1. Only stdio and the two pipes to the host stay open (container.c reads its plan before clone and keeps no other descriptor).'),
    'container_side() {',
    '  set -euo pipefail',
    '  local fd',
    '  for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -le 2 ] || eval "exec $fd>&-"; done',
    '  exec 7<>"$DIR/report" 8<>"$DIR/detached"',
    ...comment(`go: ${go.why}`, '  '),
    '  read -r _ <"$DIR/go"',
  );
  const chain: string[] = [];
  for (const a of of('become-root')) {
    say(...comment(a.why, '  '));
    chain.push('setpriv', '--reuid', '0', '--regid', '0', '--keep-groups', '--');
  }
  for (const a of of('cgroupns')) {
    say(...comment(a.why, '  '));
    chain.push('unshare', '--cgroup', '--');
  }
  say(`  exec ${shLine([...chain, 'bash', '--norc', '--noprofile', '-c', 'container_setup'])}`, '}', '');

  say(
    ...comment('The rest of the child, up to the command: hostname, network, mounts, then the programs that lead to the command, loaded from the host before pivot_root.'),
    'container_setup() {',
    '  set -euo pipefail',
    '  local t',
  );
  for (const a of at('child')) {
    if (a.kind === 'become-root' || a.kind === 'cgroupns') continue;
    say(...comment(a.why, '  '));
    switch (a.kind) {
      case 'hostname':
      case 'lo':
      case 'eth':
      case 'private':
        say(`  ${a.command}`);
        break;
      case 'overlay':
        // In a subshell: the cd is for the relative layer names only.
        say(a.cwd ? `  (${a.command})` : `  ${a.command}`);
        break;
      case 'rootfs-bind':
        say(`  ${a.command}`);
        break;
      case 'attach-lower':
        say('  # (here the image was copied with shifted owners to that directory before "go": nothing to attach)');
        break;
      case 'op':
        say(...opScript(a));
        break;
      default:
        throw new Error(`script: no rendering for ${a.kind}`);
    }
  }
  const cwd = of('cwd')[0]!;
  if (cwd.cwd !== '/') {
    say(
      ...comment('The working directory is made now if missing (as below: a path through a symlink is left to cd, which resolves it inside the container), and entered after pivot_root.', '  '),
      `  target ${shWord(cwd.cwd)} >/dev/null 2>&1 || true`,
    );
  }
  for (const a of of('readonly')) say(...comment(`${a.why} (here before pivot_root, which changes nothing for it)`, '  '), `  mount -o remount,ro,nodev "$ROOTFS"`);
  const keepPwd = child.env.some((e) => e.startsWith('PWD=') || e.startsWith('OLDPWD='));
  const exec = of('exec')[0]!;
  const priv: string[] = [];
  for (const a of of('caps')) priv.push(...a.command.replace(/^setpriv /, '').split(' '));
  for (const a of of('ids')) priv.push(...a.command.replace(/^setpriv /, '').split(' '));
  for (const a of of('nnp')) priv.push(...a.command.replace(/^setpriv /, '').split(' '));
  for (const a of of('umask')) say(...comment(a.why, '  '), `  ${a.command}`);
  say(
    ...comment('What container.c does after pivot_root, and how this chain of programs does it:', '  '),
    ...at('exec').flatMap((a) => [`  #   ${a.command.split('  #')[0]}`, ...comment(a.why, '', '  #       ')]),
    ...comment('Here: setsid; setpriv (capabilities, groups, gid, uid, no_new_privs); env -i (exactly the container\'s environment); sh, which tells the host it is loaded, waits until the old root is detached, cds to the working directory and execs the command. No seccomp filter: no standard tool installs one. Descriptors: only stdio are left (see container_side; sh closes its two pipes).', '  '),
    '  local waiter',
    `  waiter=${shWord(WAITER(keepPwd).join('\n'))}`,
    '  cd "$ROOTFS"',
    `  exec ${shLine(['setsid', '--', 'setpriv', ...priv, '--', 'env', '-i', ...exec.env])} \\`,
    `    sh -c "$waiter" sh ${shLine([cwd.cwd, ...exec.argv])}`,
    '}',
    'export -f container_side container_setup target kept_flags',
    'export DIR ROOTFS',
    '',
  );

  // ── the host, in minidock's order ──
  const tools = ['unshare', 'nsenter', 'pivot_root', 'mount', 'umount', 'findmnt', 'setpriv', 'setsid', 'hostname', 'mkfifo', ...(net || child.loUp ? ['ip'] : []), ...(net ? ['iptables'] : []), ...(child.idmapLower ? ['tar', 'find'] : [])];
  say(
    '# ── the host ──',
    '',
    '[ "$(id -u)" = 0 ] || die "run me as root"',
    `for tool in ${tools.join(' ')}; do command -v "$tool" >/dev/null || die "$tool is missing"; done`,
    '',
  );
  for (const a of at('host')) {
    switch (a.kind) {
      case 'dirs':
        say(
          ...comment(a.why),
          'mkdir -p -m 0700 "$(dirname "$DIR")"',
          'mkdir -m 0700 "$DIR" || die "$DIR exists: is this script running already? (remove it if not)"',
          'later remove_dir',
          shLine(['mkdir', '-p', ...a.dirs]),
          ...(remap ? ['gated "$DIR"'] : []),
          ...comment('The handshake: minidock\'s "go" socket and report pipe, and one more pipe for the end of pivot_root, as FIFOs.'),
          'mkfifo "$DIR/go" "$DIR/report" "$DIR/detached"',
        );
        break;
      case 'chown':
      case 'sysctl':
      case 'chain':
      case 'jump':
      case 'rule':
      case 'file':
        say(...comment(a.why), ...hostScript(a));
        break;
      case 'lease':
        say(...comment(`IPAM: ${a.why}. This script takes no lease.`));
        break;
      case 'bridge':
        if (a.line.startsWith('link add')) say(`if ! ip link show dev ${shWord(a.line.split(' ')[3]!)} >/dev/null 2>&1; then`);
        say(...comment(a.why, '  '), `  ${a.command}`);
        if (a.line.startsWith('link add')) say(`  later ${shWord(`ip link del ${a.line.split(' ')[3]}`)}`);
        if (a === of('bridge').at(-1)) say('fi');
        break;
      default:
        throw new Error(`script: no rendering for ${a.kind}`);
    }
    say('');
  }

  // clone: one unshare, its namespaces commented one by one
  const join = of('join-net')[0];
  const flags = of('namespace').map((a) => unshareFlag(a.ns));
  say(...comment('clone3: one call makes the namespaces; the child waits for "go".'));
  for (const a of at('clone')) say(...comment(`${a.command}: ${a.why}`));
  say(
    ...comment('(--keep-caps: the child execs bash before the host writes its uid_map, and would lose its capabilities in the namespace; --kill-child: it dies with this script, as minidock\'s dies with the CLI.)'),
    `${join ? `nsenter --net=${shWord(join.netns)} -- ` : ''}unshare ${flags.includes('--user') ? '--keep-caps ' : ''}${flags.join(' ')} --fork --kill-child -- bash --norc --noprofile -c container_side ${spec.interactive ? '<&0' : '</dev/null'} &`,
    'UPID=$!',
    'wait_for "the child to be forked" find_child',
    'exec 4<>"$DIR/detached" 5<>"$DIR/go" 6<>"$DIR/report"',
    '',
  );
  for (const a of at('parent')) {
    say(...comment(a.why));
    switch (a.kind) {
      case 'idmap':
        say(`echo ${shWord(a.map)} >"/proc/$PID/${a.file}"`);
        break;
      case 'idmap-lower':
        say(
          ...comment(`minidock: ${a.command.split('  #')[0]}. Here: a copy of the image owned by the mapped ids, what minidock does where idmapped mounts are missing (src/image/shift.ts).`),
          // A layered image: only its own layers, each under the short name overlay is given.
          ...(child.overlayCwd
            ? (overlayOption(child.overlay, 'lowerdir') ?? '').split(':').flatMap((l) => [`mkdir -p ${shWord(`${a.mnt}/${l}`)}`, `shift_copy ${shWord(`${a.image}/${l}/`)} ${shWord(`${a.mnt}/${l}`)}`])
            : [`shift_copy ${shWord(a.image)} ${shWord(a.mnt)}`]),
        );
        break;
      case 'cgroup':
        if (a.op.op === 'mkdir') {
          say(`mkdir -p ${shWord(a.op.path)}`);
          const mine = (input.cgroup?.dirs ?? []).some((d) => (typeof d === 'string' ? d : d.path) === (a.op as { path: string }).path);
          if (mine) say(`later ${shWord(`rm_cgroup ${a.op.path}`)}`);
        } else if (a.op.op === 'write' && a.op.einvalLater) {
          say(`${a.command} 2>/dev/null || true # written again below, after the value it waits for`);
        } else say(a.command);
        break;
      case 'cgroup-procs':
        say(`echo "$PID" >${shWord(a.file)}`);
        break;
      case 'netns-sysctl': {
        const words = containerSysctlCommand('$PID', a.sysctls);
        say(`${words[0]} --net="/proc/$PID/ns/net" ${words.slice(2, 4).join(' ')} ${shWord(words[4]!)}`);
        break;
      }
      case 'veth': {
        const words = a.line.split(' ');
        const netnsAt = words.lastIndexOf('netns');
        if (netnsAt >= 0) words[netnsAt + 1] = '"$PID"';
        say(`ip ${words.join(' ')}`);
        if (/type veth/.test(a.line)) say(`later ${shWord(`del_veth ${words[3]}`)}`);
        // The ifb is the host's device: it outlives the container's namespace.
        if (/type ifb/.test(a.line)) say(`later ${shWord(`ip link del ${words[2]}`)}`);
        break;
      }
      case 'shaping':
        say(`tc ${a.line}`);
        break;
      default:
        throw new Error(`script: no rendering for ${a.kind}`);
    }
  }
  say(
    '',
    ...comment(`go: ${go.why}`),
    'echo go >&5',
    ...comment('The child reports once it has made the root filesystem and loaded every program it needs: from here on it could not start one from the host.'),
    'await_report loaded',
    'WAITER_EXE=$(readlink "/proc/$PID/exe")',
    '',
  );
  for (const a of at('pivot')) {
    if (a.kind === 'pivot') {
      say(
        ...comment(`${a.command}: ${a.why}.`),
        ...comment('Here from outside: nsenter runs pivot_root in the container\'s mount namespace, and it moves every process whose root was the old root, the container\'s PID 1 included.'),
        `nsenter --target "$PID" --mount -- pivot_root "$ROOTFS" "$ROOTFS"`,
      );
    } else if (a.kind === 'umount-old') {
      say(
        ...comment(`${a.command}: ${a.why}.`),
        ...comment('Here from outside too: nsenter --root=/ keeps the host\'s / for umount itself, and /proc/$PID/root is the container\'s new /, where the old root now sits.'),
        'nsenter --target "$PID" --mount --root=/ -- umount --lazy "/proc/$PID/root"',
      );
    }
  }
  say(
    ...comment('The child may go on: sh cds to the working directory and execs the command.'),
    'echo detached >&4',
    'wait_for "the command to start" exec_done',
    '',
  );
  for (const a of at('after')) if (a.kind === 'port') say(...comment(a.why), ...hostScript(a), '');
  const ports = net?.attachment.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ');
  say(
    `echo "container.sh: ${spec.name} is running: PID 1 is host pid $PID${net ? `, ${net.attachment.ip} on ${net.attachment.bridge}` : ''}${ports ? `, ${ports}` : ''}" >&2`,
    ...comment('When it exits (or this script is stopped), the exit trap undoes what the script made, newest first.'),
    'rc=0',
    'wait "$UPID" || rc=$?',
    'exit "$rc"',
    '',
  );
  // Past the variables, the container's directory reads as $DIR (when it needs no quoting, so
  // that an unquoted $DIR is the same word).
  const body = L.join('\n');
  const split = body.indexOf('\nPID=');
  return shWord(dir) === dir ? body.slice(0, split) + body.slice(split).split(dir).join('$DIR') : body;
}

/** An entry of child.ops, in the script: its target walked safely, then the mount. */
function opScript(a: ActionOf<'op'>): string[] {
  const { op } = a;
  const opt = 'optional' in op && op.optional;
  const walk = (path: string, file = false): string => `  t=$(target ${file ? '-f ' : ''}${opt ? '-n ' : ''}${shWord(path)})`;
  const guard = opt ? '[ -z "$t" ] || ' : '';
  switch (op.op) {
    case 'mount': {
      const opts = [op.flags, op.data].filter(Boolean).join(',');
      return [walk(op.dst), `  ${guard}${shLine(['mount', '-t', op.type, ...(opts ? ['-o', opts] : []), op.src])} "$t"`];
    }
    case 'bind': {
      const flags = (op.flags ?? '').split(',').filter(Boolean);
      const rest = flags.filter((f) => f !== 'rec').join(',');
      const lines = [walk(op.dst, op.file), `  ${guard}${shLine(['mount', flags.includes('rec') ? '--rbind' : '--bind', op.src])} "$t"`];
      if (rest) lines.push(`  ${guard}mount -o "remount,bind,$(kept_flags "$t")${rest}" "$t"`);
      return lines;
    }
    case 'symlink': {
      const name = shWord(posix.basename(op.dst));
      return [walk(posix.dirname(op.dst)), `  [ -e "$t/"${name} ] || [ -L "$t/"${name} ] || ln -s ${shWord(op.src)} "$t/"${name}`];
    }
    case 'mkdir':
      return [`  target ${shWord(op.dst)} >/dev/null`];
    // OCI bundles only (minidock-runc); minidock run's plans have neither.
    case 'mknod': {
      const name = shWord(posix.basename(op.dst));
      const dev = op.type === 'p' ? 'p' : `${op.type} ${op.major} ${op.minor}`;
      return [walk(posix.dirname(op.dst)), `  [ -e "$t/"${name} ] || { mknod -m ${op.mode.toString(8)} "$t/"${name} ${dev} && chown ${op.uid}:${op.gid} "$t/"${name}; }`];
    }
    case 'sysctl':
      return [walk(posix.dirname(op.dst)), `  echo ${shWord(op.value)} > "$t/"${shWord(posix.basename(op.dst))}`];
  }
}

/** Host-side actions that are one command, made idempotent and undone at exit. */
function hostScript(a: Action): string[] {
  switch (a.kind) {
    case 'chown':
      return [a.command];
    case 'sysctl':
      return [a.optional ? `[ ! -e ${a.path} ] || set_sysctl ${a.path} ${a.value}` : `set_sysctl ${a.path} ${a.value}`];
    case 'chain':
      return [`iptables -t ${a.table} -N ${a.chain} 2>/dev/null && later ${shWord(`iptables -t ${a.table} -X ${a.chain}`)}`];
    case 'jump':
      return [`add_rule ${a.rule.table} I ${a.rule.chain} ${a.rule.spec}`];
    case 'rule':
    case 'port':
      return [`add_rule ${a.rule.table} A ${a.rule.chain} ${a.rule.spec}`];
    case 'file':
      return [fileCommand(a.path, a.content)];
    default:
      throw new Error(`script: no rendering for ${a.kind}`);
  }
}
