# Sourced by bin/minidock and bin/minidock-cni, with $self (the launcher, links resolved),
# $bundle (its bundle's name in dist/bundle, without .cjs) and $fallback (the node script that
# runs it without a snapshot). Node starts from the bundle's startup snapshot, $bundle.blob
# (`npm run build` writes it): V8's heap saved just after the whole program was loaded and set
# up, so a command begins there instead of reading, compiling and evaluating the bundle (about
# 10 ms of every command; src/core/snapshot.ts says what the snapshot may and may not hold).
# Without a usable snapshot (not built, or older than the bundle or than the node on PATH),
# the fallback runs instead. A snapshot made by another Node release that looks older than it
# (a package keeps its files' times) is refused by node itself, exit 14: `npm run build` makes
# a new one. The "--" ends node's own options: Node 20 reads --env-file anywhere on its
# command line.
bin=${self%/*}
blob=$bin/../dist/bundle/$bundle.blob
node=$(command -v node) || { echo "minidock: node is not on PATH: install Node.js 20" >&2; exit 125; }
if [ "$blob" -nt "$bin/../dist/bundle/$bundle.cjs" ] && [ "$blob" -nt "$node" ]; then
  exec "$node" --snapshot-blob "$blob" -- "$@"
fi
exec "$node" -- "$bin/$fallback" "$@"
