// The minidock command line: commander wiring, one lazily imported module per command, and the
// only place that turns errors into exit codes. Importing a command's code only when it runs
// keeps `minidock run` from paying for `ps` or `import`.
import { EXIT, exitStatusFor, flagError, formatForUser, usageError } from '../core/errors.js';
import { readConfig } from '../core/config.js';
import { trace } from '../core/trace.js';
import { pflagArgs } from './pflag.js';
import { warm } from './warm.js';
import { snapshotEntry } from '../core/snapshot.js';

// Bundled into dist/bundle/main.cjs with the rest, so it comes from the code cache too.
import { Command, CommanderError } from 'commander';

// Read when the command runs (main), not at load: see the snapshot at the end.
let config: ReturnType<typeof readConfig>;
const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** `-t SECONDS` of stop and restart: a whole number, else docker's flag error; undefined when
 *  not given (the container's --stop-timeout then decides). */
function graceSeconds(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  if (!/^\d+$/.test(time)) throw flagError(`invalid argument "${time}" for "-t, --time" flag`, 'a whole number of seconds');
  return Number(time);
}

function fail(err: unknown): never {
  process.stderr.write(formatForUser(err) + '\n');
  const cleanup = (err as { cleanup?: Error[] } | null)?.cleanup;
  if (cleanup?.length) process.stderr.write(`minidock: cleanup also failed: ${cleanup.map((e) => e.message).join('; ')}\n`);
  if (config.debug && err instanceof Error) process.stderr.write(`${err.stack}\n${err.cause ? `cause: ${String((err.cause as Error).stack ?? err.cause)}\n` : ''}`);
  // The command being run decides docker's status; read now, after the command groups'
  // rewrite (`container run` is `run`).
  process.exit(exitStatusFor(process.argv[2], err));
}

function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exit(code ?? 0);
    } catch (err) {
      fail(err);
    }
  };
}

const program = new Command('minidock')
  .description('A small daemonless container runtime: docker run, without the daemon')
  .version('0.1.0')
  .enablePositionalOptions()
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`minidock: ${str.replace(/^error: /, '')}`) });

/** `run` and `create`: the same flags and the same decisions (docker's create is run without the
 *  start); only what the action does at the end differs. */
function defineRun(p: typeof program, which: 'run' | 'create'): unknown {
  const cmd = (
    p
      .command(which)
      .description(which === 'run' ? 'Run a command in a new container, in the foreground' : 'Create a container without starting it (minidock start runs it), pulling its image when missing')
      .argument('<image>', 'image name[:tag], a root filesystem directory, or a tarball (.tar, .tar.gz, .tar.xz)')
      .argument('[command...]', 'command and arguments (default: the image\'s CMD)')
      .helpOption('--help', 'display help for command') // -h is --hostname, as in docker
      .passThroughOptions()
      .option('--name <name>', 'assign a name to the container')
      .option('-h, --hostname <name>', 'container host name (default: the 12-character id; the host\'s with --network host)')
      .option('-e, --env <K=V>', 'set an environment variable (K alone copies it from this environment)', collect, [])
      .option('--env-file <file>', 'read environment variables from a file', collect, [])
      .option('-w, --workdir <dir>', 'working directory inside the container (created if missing)')
      .option('-u, --user <uid[:gid]>', 'user name or uid, and optionally group name or gid')
      .option('-i, --interactive', 'keep stdin attached', false)
      .option('-t, --tty', 'allocate a pseudo-terminal', false)
      .option('--rm', 'remove the container when it exits', false)
      .option('-d, --detach', 'run in the background and print the container id', false)
      .option('--init', 'run a tiny init as PID 1 that reaps zombies and forwards signals', false)
      .option('--cap-add <cap>', 'add a capability to docker\'s default set (or ALL)', collect, [])
      .option('--cap-drop <cap>', 'drop a capability (or ALL)', collect, [])
      .option('-v, --volume <host:ctr[:ro]>', 'bind-mount a host file or directory (repeatable; :z and :Z are accepted and ignored: no SELinux)', collect, [])
      .option('--tmpfs <ctr[:opts]>', 'mount a tmpfs (repeatable); opts: size=, mode=, uid=, gid=, nr_inodes=, exec, suid, dev, noatime, ro (default noexec,nosuid,nodev)', collect, [])
      .option('--read-only', 'mount the root filesystem read-only', false)
      .option('--pull <policy>', 'pull the image: missing (default: when not stored), always, never')
      .option('--platform <os/arch>', 'with a pull: the image to take from a multi-platform index')
      .option('--entrypoint <command>', "overwrite the image's ENTRYPOINT (and drop its CMD; \"\" for none)")
      .option('--stop-signal <signal>', "signal `stop` sends first (default: the image's StopSignal, else SIGTERM)")
      .option('--stop-timeout <seconds>', 'seconds `stop` waits before SIGKILL (default 10)')
      .option('--add-host <host:ip>', 'add a line to /etc/hosts (repeatable)', collect, [])
      .option('--dns <ip>', 'a nameserver for /etc/resolv.conf instead of the host\'s (repeatable)', collect, [])
      .option('--dns-search <domain>', 'a search domain for /etc/resolv.conf (repeatable)', collect, [])
      .option('--dns-option <opt>', 'an option line entry for /etc/resolv.conf (repeatable)', collect, [])
      .option('--group-add <group>', 'an additional group (name in the image\'s /etc/group, or gid; repeatable)', collect, [])
      .option('--label-file <file>', 'read labels from a file of KEY=VALUE lines (repeatable)', collect, [])
      .option('--cidfile <file>', 'write the container id to this file (which must not exist)')
      .option('--shm-size <bytes>', 'size of /dev/shm (e.g. 64m; default 64m)')
      .option('-a, --attach <stream>', 'attach only to STDIN, STDOUT or STDERR (repeatable; default all three)', collect, [])
      .option('--device <host[:ctr[:rwm]]>', 'give the container a host device node (repeatable)', collect, [])
      .option('--network-alias <name>', 'another name for the container on a user-defined network (repeatable)', collect, [])
      .option('--no-sig-proxy', 'do not pass the CLI\'s signals to the container (docker\'s --sig-proxy=false)')
      .option('--ip <address>', 'the container\'s IPv4 address on a user-defined network')
      .option('--mac-address <mac>', 'the container\'s MAC address (default: derived from its address)')
      .option('--sysctl <k=v>', 'a namespaced sysctl (net.*, IPC ones), set in the container (repeatable)', collect, [])
      .option('--domainname <name>', 'the container\'s NIS domain name (kernel.domainname in its UTS namespace)')
      .option('--ulimit <name=soft[:hard]>', 'a resource limit, e.g. nofile=1024:2048 (repeatable)', collect, [])
      .option('--mount <spec>', 'type=bind,src=DIR,dst=PATH[,readonly] or type=tmpfs,dst=PATH[,tmpfs-size=N,tmpfs-mode=M] (repeatable)', collect, [])
      .option('-l, --label <K=V>', 'set a label on the container (repeatable; added to the image\'s)', collect, [])
      .option('--security-opt <opt>', 'seccomp=unconfined: no seccomp filter; seccomp=PROFILE.json: that profile (docker\'s format) instead of the built-in one; no-new-privileges (minidock\'s default), no-new-privileges:false', collect, [])
      .option('--privileged', 'every capability, no no_new_privs, no seccomp, host uids (implies --userns=host): gives the container root\'s powers over what it can reach', false)
      .option('-m, --memory <bytes>', 'memory limit (e.g. 64m, 1g; at least 6m)')
      .option('--memory-swap <bytes>', 'memory plus swap limit; -1 for unlimited swap (default: twice --memory)')
      .option('--cpus <number>', 'CPUs the container may use, e.g. 0.5 (a CFS quota)')
      .option('-c, --cpu-shares <weight>', 'relative CPU weight (default 1024)')
      .option('--cpuset-cpus <list>', 'CPUs the container may run on (0-3, 0,1)')
      .option('--pids-limit <n>', 'at most this many processes and threads (-1: unlimited)')
      .option('--cpu-quota <us>', 'CFS quota: microseconds of CPU per period (-1: unlimited)')
      .option('--cpu-period <us>', 'CFS period in microseconds (1000 to 1000000; default 100000)')
      .option('--memory-reservation <bytes>', 'a soft memory limit (e.g. 32m), below --memory')
      .option('--oom-kill-disable', 'do not let the OOM killer end the container\'s processes (cgroup v1)', false)
      .option('--userns <mode>', 'host: container root is host root (default: root is remapped to host uid 100000, see MINIDOCK_USERNS_REMAP)')
      .option('--pid <mode>', 'host: the host\'s PID namespace (sees and signals the host\'s processes; implies --userns=host)')
      .option('--ipc <mode>', 'host: the host\'s IPC namespace and /dev/shm; private or shareable: its own (the default)')
      .option('--uts <mode>', 'host: the host\'s UTS namespace (its hostname; -h cannot be given)')
      .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', 'publish a container port on the host (repeatable)', collect, [])
      .option('-P, --publish-all', 'publish every port the image exposes, on free host ports', false)
      .option('--expose <port[/proto]>', 'expose a port or range without publishing it (-P publishes it; shown by ps and inspect)', collect, [])
      .option('--network <mode>', 'none, host, bridge (the default), container:NAME, or a network name')
      .option('--ingress-rate <rate>', 'shape what the container receives, in tc units (10mbit, 500kbit, 1gbit): a tbf on its veth')
      .option('--egress-rate <rate>', 'shape what the container sends, in tc units: an ifb device with a tbf')
      .option('--explain', 'print each step, as the equivalent shell command and why', false)
      .option('--dry-run', 'create nothing: print the steps run would take (--explain, the default) or a script (--script)', false)
      .option('--script', 'with --dry-run: print a bash script that builds the same container with standard tools', false)
      .option('--bundle <dir>', 'with --dry-run: write the OCI bundle (config.json, rootfs) of this run into DIR, for runc, crun or minidock-runc')
      .action(action(async (image: string, command: string[], opts) => {
        trace('cli: argv parsed');
        const { createContainer, runContainer } = await import('../runtime/run.js');
        if (which === 'create') {
          // docker create takes run's flags but none of these: they are about the run itself.
          for (const [flag, given] of [['--detach', opts.detach], ['--explain', opts.explain], ['--dry-run', opts.dryRun], ['--script', opts.script], ['--bundle', opts.bundle !== undefined]] as const) {
            if (given) throw usageError(`create takes no ${flag}`, `minidock run ${flag} ... does`);
          }
        }
        const run = which === 'create' ? createContainer
          : opts.dryRun || opts.script || opts.bundle !== undefined ? (await import('../explain/dry-run.js')).dryRun(opts) : runContainer;
        return run(
          {
            image,
            command,
            name: opts.name,
            hostname: opts.hostname,
            env: opts.env,
            envFiles: opts.envFile,
            workdir: opts.workdir,
            user: opts.user,
            interactive: opts.interactive,
            tty: opts.tty,
            rm: opts.rm,
            detach: opts.detach,
            init: opts.init,
            capAdd: opts.capAdd,
            capDrop: opts.capDrop,
            privileged: opts.privileged,
            volumes: opts.volume,
            tmpfs: opts.tmpfs,
            readOnly: opts.readOnly,
            securityOpt: opts.securityOpt,
            ...(opts.stopSignal !== undefined ? { stopSignal: opts.stopSignal } : {}),
            ...(opts.entrypoint !== undefined ? { entrypoint: opts.entrypoint } : {}),
            ...(opts.pull !== undefined ? { pull: opts.pull } : {}),
            ...(opts.platform !== undefined ? { platform: opts.platform } : {}),
            labels: opts.label,
            labelFiles: opts.labelFile,
            addHost: opts.addHost,
            dns: opts.dns,
            dnsSearch: opts.dnsSearch,
            dnsOption: opts.dnsOption,
            groupAdd: opts.groupAdd,
            device: opts.device,
            attach: opts.attach,
            networkAlias: opts.networkAlias,
            ...(opts.sigProxy === false ? { noSigProxy: true } : {}),
            ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
            ...(opts.macAddress !== undefined ? { mac: opts.macAddress } : {}),
            sysctl: opts.sysctl,
            ulimit: opts.ulimit,
            mount: opts.mount,
            ...(opts.domainname !== undefined ? { domainname: opts.domainname } : {}),
            ...(opts.cidfile !== undefined ? { cidfile: opts.cidfile } : {}),
            ...(opts.shmSize !== undefined ? { shmSize: opts.shmSize } : {}),
            ...(opts.stopTimeout !== undefined ? { stopTimeout: opts.stopTimeout } : {}),
            userns: opts.userns,
            ...(opts.pid !== undefined ? { pid: opts.pid } : {}),
            ...(opts.ipc !== undefined ? { ipc: opts.ipc } : {}),
            ...(opts.uts !== undefined ? { uts: opts.uts } : {}),
            ...(opts.explain && !opts.dryRun ? { explain: (await import('../explain/live.js')).explainRun } : {}),
            resources: {
              memory: opts.memory, memorySwap: opts.memorySwap, cpus: opts.cpus, cpuShares: opts.cpuShares, cpusetCpus: opts.cpusetCpus, pidsLimit: opts.pidsLimit,
              cpuQuota: opts.cpuQuota, cpuPeriod: opts.cpuPeriod, memoryReservation: opts.memoryReservation, ...(opts.oomKillDisable ? { oomKillDisable: true } : {}),
            },
            network: opts.network ?? 'bridge',
            ...(opts.network === undefined ? { networkDefault: true } : {}),
            publish: opts.publish,
            publishAll: opts.publishAll,
            expose: opts.expose,
            ...(opts.ingressRate !== undefined ? { ingressRate: opts.ingressRate } : {}),
            ...(opts.egressRate !== undefined ? { egressRate: opts.egressRate } : {}),
          },
          { root: config.root },
        );
      }))
  );
  // The flags about the run itself: create refuses them, so its --help does not offer them.
  if (which === 'create') for (const o of cmd.options) if (['--detach', '--explain', '--dry-run', '--script', '--bundle'].includes(o.long ?? '')) o.hideHelp();
  return cmd;
}

// One definer per command. Only the command named on the command line is defined (all of them
// for --help or an unknown command): building commander's option objects for six commands costs
// milliseconds that `run` should not pay.
const commands: Record<string, (p: typeof program) => unknown> = {
  run: (p) => defineRun(p, 'run'),
  create: (p) => defineRun(p, 'create'),
  ps: (p) =>
    p
      .command('ps')
      .description('List containers')
      .option('-a, --all', 'show all containers (default shows just running)', false)
      .option('-q, --quiet', 'only display container ids', false)
      .option('--no-trunc', "don't truncate output")
      .option('-f, --filter <key=value>', 'status=, name=, id=, exited=, ancestor= (repeatable)', collect, [])
      .option('--format <template>', "Go template per container, e.g. '{{.Names}}'; 'table ...' adds a header row")
      .option('-n, --last <n>', 'show the n last created containers (all states)')
      .option('-l, --latest', 'show the latest created container (all states)', false)
      .option('-s, --size', 'display total file sizes', false)
      .action(action(async (opts) => {
        const { psCommand } = await import('./ps.js');
        let last: number | undefined = opts.latest ? 1 : undefined;
        if (opts.last !== undefined) {
          if (!/^-?\d+$/.test(opts.last)) throw flagError(`invalid argument "${opts.last}" for "-n, --last" flag`, 'a number of containers');
          last = Number(opts.last) < 0 ? last : Number(opts.last);
        }
        process.stdout.write(await psCommand(config.root, { all: opts.all, quiet: opts.quiet, noTrunc: !opts.trunc, filter: opts.filter, last, size: opts.size, format: opts.format }));
      })),
  inspect: (p) =>
    p
      .command('inspect')
      .argument('<name|id...>')
      .description('Show containers, images or networks as JSON (a container first, then an image, then a network of that name)')
      .option('-f, --format <template>', "Go template, e.g. '{{.State.Pid}}' or '{{json .NetworkSettings}}'")
      .option('--type <kind>', 'look only for a container, image, network or volume')
      .option('--net', "draw the container's network path instead (network diagram, cut down to it)", false)
      .action(action(async (refs: string[], opts) => {
        if (!opts.net) {
          const { inspectKinds, inspectObjects } = await import('./inspect.js');
          return inspectObjects(config.root, refs, { format: opts.format, kinds: inspectKinds(opts.type) });
        }
        const { diagramCommand } = await import('./diagram.js');
        for (const ref of refs) await diagramCommand(config.root, { container: ref });
      })),
  top: (p) =>
    p
      .command('top')
      .description("List a container's processes, with host and container pids")
      .argument('<container>')
      .action(action(async (ref: string) => {
        process.stdout.write(await (await import('./ps.js')).topCommand(config.root, ref));
      })),
  rm: (p) =>
    p
      .command('rm')
      .description('Remove one or more containers')
      .argument('<container...>', 'names or ids (unique prefixes accepted)')
      .option('-f, --force', 'kill a running container first', false)
      .option('-v, --volumes', 'remove the anonymous volumes of its image\'s VOLUME paths too', false)
      .action(action(async (refs: string[], opts) => {
        const { rmCommand } = await import('./ps.js');
        return rmCommand(config.root, refs, opts.force, opts.volumes);
      })),
  images: (p) =>
    p
      .command('images')
      .description('List images')
      .argument('[repository]', 'only images with this name (NAME or NAME:TAG)')
      .option('-a, --all', 'show all images (minidock keeps no intermediate images: the same list)', false)
      .option('--digests', 'show digests', false)
      .option('-q, --quiet', 'only show image ids', false)
      .option('--no-trunc', "don't truncate output")
      .option('--format <template>', "Go template per image, e.g. '{{.Repository}}:{{.Tag}}'; 'table ...' adds a header row")
      .action(action(async (repo: string | undefined, opts) => {
        const { imagesCommand } = await import('./images.js');
        process.stdout.write(imagesCommand(config.root, repo, { quiet: opts.quiet, noTrunc: !opts.trunc, digests: opts.digests, format: opts.format }));
      })),
  image: (p) => {
    const img = p.command('image').description('Manage images');
    img
      .command('inspect')
      .description('Show images as JSON (config, layers and where they are on disk)')
      .argument('<image...>')
      .option('-f, --format <template>', "Go template, e.g. '{{.RootFS.Layers}}'")
      .action(action(async (refs: string[], opts) => (await import('./inspect.js')).inspectObjects(config.root, refs, { format: opts.format, kinds: ['image'] })));
    img
      .command('prune')
      .description('Remove images no tag names (with -a: every image no container uses), and their unshared layers')
      .option('-a, --all', 'remove all images without a container, not only dangling ones', false)
      .option('-f, --force', 'do not prompt for confirmation', false)
      .action(action(async (opts) => (await import('./images.js')).imagePruneCommand(config.root, { all: opts.all, force: opts.force })));
    img
      .command('ls')
      .description('List images (as minidock images)')
      .argument('[repository]')
      .option('-q, --quiet', 'only show image ids', false)
      .option('--no-trunc', "don't truncate output")
      .option('--format <template>', "Go template per image; 'table ...' adds a header row")
      .action(action(async (repo: string | undefined, opts) => {
        process.stdout.write((await import('./images.js')).imagesCommand(config.root, repo, { quiet: opts.quiet, noTrunc: !opts.trunc, format: opts.format }));
      }));
    return img;
  },
  history: (p) =>
    p
      .command('history')
      .description("Show an image's history: the steps that made it, newest first, with each layer's size")
      .argument('<image>')
      .option('-H, --human [bool]', 'sizes and dates in human-readable form', true)
      .option('-q, --quiet', 'only show image ids', false)
      .option('--no-trunc', "don't truncate output")
      .action(action(async (ref: string, opts) => {
        const human = opts.human !== false && opts.human !== 'false';
        process.stdout.write((await import('./images.js')).historyCommand(config.root, ref, { noTrunc: !opts.trunc, quiet: opts.quiet, human }));
      })),
  tag: (p) =>
    p
      .command('tag')
      .description('Give an image another name: TARGET_IMAGE[:TAG] refers to SOURCE_IMAGE[:TAG]')
      .argument('<source>')
      .argument('<target>')
      .action(action(async (source: string, target: string) => (await import('./images.js')).tagCommand(config.root, source, target))),
  pull: (p) =>
    p
      .command('pull')
      .description('Download an image from a registry (Distribution API; plain HTTP only to loopback or MINIDOCK_INSECURE_REGISTRIES)')
      .argument('<reference>', 'NAME[:TAG|@DIGEST], e.g. busybox, user/app:1, localhost:5000/ns/app@sha256:...')
      .option('-a, --all-tags', 'every tagged image in the repository', false)
      .option('-q, --quiet', 'print only the full reference', false)
      .option('--platform <os/arch>', "the image to take from a multi-platform index (default: this host's)")
      .action(action(async (ref: string, opts) => (await import('./images.js')).pullCommand(config.root, ref, { quiet: opts.quiet, platform: opts.platform, allTags: opts.allTags }))),
  login: (p) =>
    p
      .command('login')
      .description("Log in to a registry: the credentials are checked, then kept in ~/.minidock/config.json, or by its credsStore/credHelpers helper (docker's ~/.docker/config.json is read too)")
      .argument('[server]', 'the registry (default: Docker Hub)')
      .option('-u, --username <user>', 'username')
      .option('-p, --password <password>', 'password (prefer --password-stdin)')
      .option('--password-stdin', 'take the password from stdin', false)
      .action(action(async (server: string | undefined, opts) => (await import('./images.js')).loginCommand(server, { username: opts.username, password: opts.password, passwordStdin: opts.passwordStdin }))),
  logout: (p) =>
    p
      .command('logout')
      .description('Log out from a registry (forget the credentials minidock keeps for it)')
      .argument('[server]', 'the registry (default: Docker Hub)')
      .action(action(async (server: string | undefined) => (await import('./images.js')).logoutCommand(server))),
  push: (p) =>
    p
      .command('push')
      .description('Upload an image to a registry (its blobs as stored: skipped when there, mounted from the repository they came from, else uploaded, in chunks above 16 MiB or MINIDOCK_UPLOAD_CHUNK bytes; then an OCI manifest)')
      .argument('<reference>', 'NAME:TAG, e.g. localhost:5000/team/app:1 (tag the image so first)')
      .action(action(async (ref: string) => (await import('./images.js')).pushCommand(config.root, ref))),
  load: (p) =>
    p
      .command('load')
      .description('Load images from a docker-archive or an OCI image layout (tar or directory), from a file or stdin')
      .option('-i, --input <file>', 'read from FILE (a tar, a gzip/xz/zstd tar, or an OCI layout directory) instead of stdin')
      .option('-q, --quiet', 'no progress output (minidock shows none; the Loaded image lines stay, as docker\'s)', false)
      .option('--platform <os/arch>', "the image to take from a multi-platform index (default: this host's)")
      .action(action(async (opts) => (await import('./images.js')).loadCommand(config.root, { input: opts.input, quiet: opts.quiet, platform: opts.platform }))),
  save: (p) =>
    p
      .command('save')
      .description('Save images to a tar archive (docker-archive, as docker save; or oci-archive), to a file or stdout')
      .argument('<image...>')
      .option('-o, --output <file>', 'write to FILE instead of stdout')
      .option('--format <format>', 'docker-archive or oci-archive', 'docker-archive')
      .action(action(async (refs: string[], opts) => (await import('./images.js')).saveCommand(config.root, refs, { output: opts.output, format: opts.format }))),
  import: (p) =>
    p
      .command('import')
      .description('Import a root filesystem (tarball or directory) as a one-layer image')
      .argument('<source>', 'FILE.tar, FILE.tar.gz, FILE.tar.xz, - (stdin) or a directory')
      .argument('[name]', 'NAME[:TAG] to give the image')
      .option('-c, --change <instruction>', 'apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, USER, WORKDIR', collect, [])
      .option('-m, --message <text>', 'a commit message for the imported image')
      .action(action(async (source: string, name: string | undefined, opts) => {
        const { importCommand } = await import('./images.js');
        process.stdout.write(await importCommand(config.root, source, name, opts.change, opts.message));
      })),
  commit: (p) =>
    p
      .command('commit')
      .description("Create a new image from a container's changes (its own layer, over its image)")
      .argument('<container>')
      .argument('[repository]', 'NAME[:TAG] to give the image')
      .option('-a, --author <author>', 'author (e.g. "Jane Doe <jane@example.com>")')
      .option('-c, --change <instruction>', 'apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, USER, WORKDIR', collect, [])
      .option('-m, --message <text>', 'commit message')
      .action(action(async (ref: string, name: string | undefined, opts) => {
        process.stdout.write(await (await import('./images.js')).commitCommand(config.root, ref, name, { changes: opts.change, message: opts.message, author: opts.author }));
      })),
  diff: (p) =>
    p
      .command('diff')
      .description("Inspect changes to files or directories on a container's filesystem (A added, C changed, D deleted)")
      .argument('<container>')
      .action(action(async (ref: string) => {
        process.stdout.write(await (await import('./images.js')).diffCommand(config.root, ref));
      })),
  rmi: (p) =>
    p
      .command('rmi')
      .description('Remove one or more images (and the layers no other image uses)')
      .argument('<image...>', 'names or ids')
      .option('-f, --force', 'remove an image with several tags by id, or one a stopped container uses', false)
      .action(action(async (refs: string[], opts) => {
        const { rmiCommand } = await import('./images.js');
        return rmiCommand(config.root, refs, opts.force);
      })),
  cleanup: (p) =>
    p
      .command('cleanup', { hidden: true })
      .description("Finish a detached container after its exit (run by minidock-shim)")
      .argument('<id>')
      .action(action(async (id: string) => (await import('./lifecycle.js')).cleanupCommand(config.root, id))),
  logs: (p) =>
    p
      .command('logs')
      .description('Show what a container wrote to stdout and stderr (detached, or run in the foreground without --rm)')
      .argument('<container>')
      .option('-f, --follow', 'follow the output until the container stops', false)
      .option('-n, --tail <lines>', 'only the last N lines ("all" for everything)')
      .option('-t, --timestamps', 'show when each line was written', false)
      .option('--since <time>', 'only lines written since then: 10m, 1h30m, Unix seconds or an RFC 3339 time')
      .option('--until <time>', 'only lines written before then (the same forms)')
      .action(action(async (ref: string, opts) =>
        (await import('./lifecycle.js')).logsCommand(config.root, ref, { follow: opts.follow, tail: opts.tail, timestamps: opts.timestamps, since: opts.since, until: opts.until }))),
  stop: (p) =>
    p
      .command('stop')
      .description('Stop containers: SIGTERM, then SIGKILL after a grace period')
      .argument('<container...>')
      .option('-t, --time <seconds>', "seconds to wait before killing (default: the container's --stop-timeout, else 10)")
      .action(action(async (refs: string[], opts) => {
        return (await import('./lifecycle.js')).stopCommand(config.root, refs, graceSeconds(opts.time));
      })),
  kill: (p) =>
    p
      .command('kill')
      .description('Send a signal to containers (default SIGKILL)')
      .argument('<container...>')
      .option('-s, --signal <signal>', 'signal name or number', 'KILL')
      .action(action(async (refs: string[], opts) => (await import('./lifecycle.js')).killCommand(config.root, refs, opts.signal))),
  version: (p) =>
    p
      .command('version')
      .description('Show the version (the "Server" is this same program: there is no daemon)')
      .option('-f, --format <template>', "Go template, e.g. '{{.Client.Version}}'")
      .action(action(async (opts) => { process.stdout.write((await import('./system.js')).versionCommand(opts.format)); })),
  info: (p) =>
    p
      .command('info')
      .description('Show what this host and state root hold: containers, images, cgroups, kernel')
      .option('-f, --format <template>', "Go template, e.g. '{{.CgroupVersion}}'")
      .action(action(async (opts) => { process.stdout.write((await import('./system.js')).infoCommand(config.root, opts.format)); })),
  container: (p) => {
    // The group's own verb; the others are rewritten to the top-level commands above.
    const c = p.command('container').description('Manage containers (ls, rm, run, ... are the top-level commands)');
    c.command('prune')
      .description('Remove every stopped container')
      .option('-f, --force', 'do not prompt for confirmation', false)
      .action(action(async (opts) => (await import('./ps.js')).containerPruneCommand(config.root, opts.force)));
    return c;
  },
  attach: (p) =>
    p
      .command('attach')
      .description("Follow a running container's output until it exits; its exit code (output only: no stdin)")
      .argument('<container>')
      .option('--no-stdin', 'do not attach stdin (the only mode minidock has)')
      .option('--no-sig-proxy', 'do not pass SIGINT and SIGTERM to the container (--sig-proxy=false)')
      .action(action(async (ref: string, opts) => (await import('./lifecycle.js')).attachCommand(config.root, ref, { sigProxy: opts.sigProxy !== false }))),
  pause: (p) =>
    p
      .command('pause')
      .description("Suspend every process of containers (their freezer cgroup)")
      .argument('<container...>')
      .action(action(async (refs: string[]) => (await import('./lifecycle.js')).pauseCommand(config.root, refs, true))),
  unpause: (p) =>
    p
      .command('unpause')
      .description('Resume the processes of paused containers')
      .argument('<container...>')
      .action(action(async (refs: string[]) => (await import('./lifecycle.js')).pauseCommand(config.root, refs, false))),
  system: (p) => {
    const sys = p.command('system').description('What minidock holds on this host');
    sys.command('df')
      .description('Disk usage: images, containers, local volumes, build cache')
      .option('--format <template>', "Go template per row, e.g. '{{.Type}} {{.Size}}'")
      .action(action(async (opts) => { process.stdout.write((await import('./system.js')).dfCommand(config.root, opts.format)); }));
    sys.command('info')
      .description('The same as minidock info')
      .option('-f, --format <template>', "Go template, e.g. '{{.CgroupVersion}}'")
      .action(action(async (opts) => { process.stdout.write((await import('./system.js')).infoCommand(config.root, opts.format)); }));
    return sys;
  },
  rename: (p) =>
    p
      .command('rename')
      .description('Rename a container (its hostname stays what it was, as in docker)')
      .argument('<container>')
      .argument('<new-name>')
      .action(action(async (ref: string, to: string) => (await import('./lifecycle.js')).renameCommand(config.root, ref, to))),
  wait: (p) =>
    p
      .command('wait')
      .description('Wait for containers to stop, then print their exit codes')
      .argument('<container...>')
      .action(action(async (refs: string[]) => (await import('./lifecycle.js')).waitCommand(config.root, refs))),
  start: (p) =>
    p
      .command('start')
      .description('Start stopped containers (same name, network and published ports)')
      .argument('<container...>')
      .option('-a, --attach', 'run in the foreground, attached to its output', false)
      .action(action(async (refs: string[], opts) => (await import('./lifecycle.js')).startCommand(config.root, refs, opts.attach))),
  restart: (p) =>
    p
      .command('restart')
      .description('Stop, then start containers')
      .argument('<container...>')
      .option('-t, --time <seconds>', "seconds to wait before killing (default: the container's --stop-timeout, else 10)")
      .action(action(async (refs: string[], opts) => {
        return (await import('./lifecycle.js')).restartCommand(config.root, refs, graceSeconds(opts.time));
      })),
  exec: (p) =>
    p
      .command('exec')
      .description('Run a command in a running container')
      .argument('<container>')
      .argument('<command...>')
      .passThroughOptions()
      .option('-i, --interactive', 'keep stdin attached', false)
      .option('-t, --tty', 'allocate a pseudo-terminal', false)
      .option('-d, --detach', 'run the command in the background', false)
      .option('-e, --env <K=V>', 'set an environment variable', collect, [])
      .option('-w, --workdir <dir>', 'working directory inside the container')
      .option('-u, --user <user[:group]>', 'user name or uid, and optionally group')
      .action(action(async (ref: string, command: string[], opts) =>
        (await import('./lifecycle.js')).execCommand(config.root, ref, command, {
          interactive: opts.interactive, tty: opts.tty, detach: opts.detach, env: opts.env, workdir: opts.workdir, user: opts.user,
        }))),
  gc: (p) =>
    p
      .command('gc')
      .description('Reconcile state with the kernel after crashes: finish or undo half-done work, free leases, rules and files nobody owns')
      .action(action(async () => {
        const { gc } = await import('../runtime/gc.js');
        const r = await gc(config.root, (await import('../native/binding.js')).native());
        process.stdout.write(
          `undone ${r.undone.length} half-made container(s), finalized ${r.finalized.length}; freed ${r.leases} lease(s), ${r.ports} port lease(s), ` +
          `${r.rules} rule(s), ${r.veths} veth(s), ${r.files} file(s)\n`);
      })),
  stats: (p) =>
    p
      .command('stats')
      .description("Live resource usage of containers (CPU %, memory, network, block I/O, pids), from their cgroups")
      .argument('[container...]', 'containers (default: all running)')
      .option('-a, --all', 'show all containers (default shows just running)', false)
      .option('--no-stream', 'print one table (two samples a second apart) and exit')
      .option('--no-trunc', "don't truncate the ids")
      .option('--format <template>', "Go template per container, e.g. '{{.Name}} {{.CPUPerc}}'; 'table ...' adds a header row")
      .action(action(async (refs: string[], opts) => {
        return (await import('./resources.js')).statsCommand(config.root, refs, { all: opts.all, noStream: !opts.stream, format: opts.format, noTrunc: !opts.trunc });
      })),
  update: (p) =>
    p
      .command('update')
      .description("Change the resource limits of containers; a running one gets them at once")
      .argument('<container...>')
      .option('-m, --memory <bytes>', 'memory limit (e.g. 64m, 1g)')
      .option('--memory-swap <bytes>', 'memory plus swap limit; -1 for unlimited swap')
      .option('--cpus <number>', 'CPUs the container may use, e.g. 0.5')
      .option('-c, --cpu-shares <weight>', 'relative CPU weight')
      .option('--cpuset-cpus <list>', 'CPUs the container may run on')
      .option('--pids-limit <n>', 'at most this many processes (-1: unlimited)')
      .action(action(async (refs: string[], opts) => {
        return (await import('./resources.js')).updateCommand(config.root, refs, {
          memory: opts.memory, memorySwap: opts.memorySwap, cpus: opts.cpus, cpuShares: opts.cpuShares, cpusetCpus: opts.cpusetCpus, pidsLimit: opts.pidsLimit,
        });
      })),
  port: (p) =>
    p
      .command('port')
      .description("List a container's published ports")
      .argument('<container>', 'name or id')
      .argument('[port]', 'PORT[/PROTO]: only this container port')
      .action(action(async (ref: string, port: string | undefined) => {
        const { portCommand } = await import('./ps.js');
        process.stdout.write(portCommand(config.root, ref, port));
      })),
  doctor: (p) =>
    p
      .command('doctor')
      .description('Check this host for what breaks containers, and say what to do about each (exit 1 when a check fails)')
      .action(action(async () => (await import('./doctor.js')).doctorCommand(config.root))),
  trace: (p) =>
    p
      .command('trace')
      .description('Send one TCP connect to a published port and tell its path: the rules it met, the reply, where it stopped (exit 1 unless answered)')
      .argument('<port>', 'host port to probe, e.g. 8080')
      .option('--from <where>', 'host (127.0.0.1), lan (a namespace made for the probe), or container:NAME', 'host')
      .option('--timeout <seconds>', 'how long to wait for an answer', '2')
      .action(action(async (port: string, opts) =>
        (await import('./trace.js')).traceCommand(config.root, port, { from: opts.from, timeout: opts.timeout }))),
  volume: (p) => {
    const vol = p.command('volume').description('Manage volumes: data under the state root that outlives containers (-v NAME:/path)');
    vol
      .command('create')
      .description('Create a volume (a random name when none is given); one that exists is kept')
      .argument('[name]', 'volume name (letters, digits, _ . -)')
      .option('-d, --driver <name>', 'volume driver: local, the only one', 'local')
      .option('-l, --label <K=V>', 'set a label on the volume (repeatable)', collect, [])
      .option('-o, --opt <K=V>', 'driver options (not supported yet)', collect, [])
      .action(action(async (name: string | undefined, opts) => (await import('./volumes.js')).volumeCreate(config.root, name, { labels: opts.label, driver: opts.driver, opts: opts.opt })));
    vol
      .command('ls')
      .alias('list')
      .description('List volumes, named and anonymous')
      .option('-q, --quiet', 'only display volume names', false)
      .option('-f, --filter <filter>', 'name=, dangling=true|false, label=K[=V], driver= (repeatable)', collect, [])
      .option('--format <template>', "Go template per volume, e.g. '{{.Name}}'; 'table ...' adds a header row")
      .action(action(async (opts) => {
        process.stdout.write(await (await import('./volumes.js')).volumeLs(config.root, { quiet: opts.quiet, filter: opts.filter, format: opts.format }));
      }));
    vol
      .command('inspect')
      .description('Show volumes as JSON')
      .argument('<name...>', 'volume names')
      .option('-f, --format <template>', "Go template per volume, e.g. '{{.Mountpoint}}'")
      .action(action(async (names: string[], opts) => (await import('./inspect.js')).inspectObjects(config.root, names, { format: opts.format, kinds: ['volume'] })));
    vol
      .command('rm')
      .alias('remove')
      .description('Remove volumes (refused while a container, running or not, uses one)')
      .argument('<name...>', 'volume names')
      .option('-f, --force', 'no error for a volume that does not exist', false)
      .action(action(async (names: string[], opts) => (await import('./volumes.js')).volumeRm(config.root, names, opts.force)));
    vol
      .command('prune')
      .description('Remove every volume no container uses')
      .option('-f, --force', 'do not prompt for confirmation', false)
      .action(action(async (opts) => (await import('./volumes.js')).volumePrune(config.root, opts.force)));
    return vol;
  },
  network: (p) => {
    const net = p.command('network').description('Manage networks');
    net
      .command('create')
      .description('Create a bridge network')
      .argument('<name>', 'network name')
      .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.90.0.0/24 (default: a free private block)')
      .option('--gateway <ip>', "the bridge's address (default: the subnet's first)")
      .action(action(async (name: string, opts) => {
        const { networkCreate } = await import('./network.js');
        process.stdout.write(await networkCreate(config.root, name, opts.subnet, opts.gateway));
      }));
    net
      .command('ls')
      .description('List networks')
      .option('-q, --quiet', 'only display network ids', false)
      .option('--no-trunc', "don't truncate the ids")
      .option('--format <template>', "Go template per network, e.g. '{{.Name}}'; 'table ...' adds a header row")
      .action(action(async (opts) => {
        const { networkLs } = await import('./network.js');
        process.stdout.write(networkLs(config.root, opts.quiet, { format: opts.format, noTrunc: !opts.trunc }));
      }));
    net
      .command('inspect')
      .description('Show networks as JSON, with their containers')
      .argument('<name...>', 'network names')
      .option('-f, --format <template>', "Go template per network, e.g. '{{.IPAM.Config}}'")
      .action(action(async (names: string[], opts) => (await import('./inspect.js')).inspectObjects(config.root, names, { format: opts.format, kinds: ['network'] })));
    net
      .command('prune')
      .description('Remove every network no container uses (not the pre-defined ones)')
      .option('-f, --force', 'do not prompt for confirmation', false)
      .action(action(async (opts) => (await import('./network.js')).networkPruneCommand(config.root, opts.force)));
    net
      .command('rm')
      .description('Remove networks (refused while containers are attached)')
      .argument('<name...>', 'network names')
      .action(action(async (names: string[]) => {
        const { networkRm } = await import('./network.js');
        return networkRm(config.root, names);
      }));
    net
      .command('diagram')
      .description('Draw the host\'s minidock networking: uplink, NAT, bridges, veth pairs, containers, published ports, with rule counters')
      .option('--svg <file>', 'also write the diagram as SVG to this file, for a browser (- : SVG on stdout instead of text)')
      .action(action(async (opts) => (await import('./diagram.js')).diagramCommand(config.root, { svg: opts.svg })));
    return net;
  },
};

// docker's command groups: `container ls` is `ps`, `container X` is `X`, and `image rm`, `image
// tag` (and the other image verbs) are the top-level commands. Rewritten before anything else,
// so each has one way through.
const CONTAINER_VERBS: Record<string, string> = { ls: 'ps', list: 'ps', ps: 'ps' };
const CONTAINER_SAME = ['run', 'create', 'start', 'stop', 'restart', 'kill', 'rm', 'logs', 'exec', 'inspect', 'top', 'port', 'wait', 'stats', 'update', 'commit', 'diff', 'rename', 'pause', 'unpause', 'attach'];
const IMAGE_VERBS: Record<string, string> = { rm: 'rmi', remove: 'rmi', tag: 'tag', pull: 'pull', push: 'push', save: 'save', load: 'load', import: 'import', history: 'history', list: 'images' };
/** docker's flag syntax for the command that runs (see pflag.ts): its own flags, and a group's
 *  subcommand's (`network ls`). */
function dockerArgv(argv: string[]): string[] {
  let cmd: Command = program;
  let at = 2;
  for (;;) {
    const sub = cmd.commands.find((c) => c.name() === argv[at] || c.aliases().includes(argv[at] ?? ''));
    if (!sub) break;
    cmd = sub;
    at++;
  }
  if (cmd === program) return argv;
  const flags = cmd.options.map((o) => ({ short: o.short, long: o.long, takesValue: o.required || o.optional }));
  return [...argv.slice(0, at), ...pflagArgs(argv.slice(at), flags)];
}

/** One command: from the command line to its exit status. */
function main(): void {
  trace('cli: commander loaded');
  config = readConfig();
  {
    const [group, verb] = [process.argv[2], process.argv[3] ?? ''];
    const to = group === 'container' ? CONTAINER_VERBS[verb] ?? (CONTAINER_SAME.includes(verb) ? verb : undefined)
      : group === 'image' ? IMAGE_VERBS[verb] : undefined;
    // `container inspect` looks only for containers, as docker's.
    if (to) process.argv.splice(2, 2, ...(group === 'container' && to === 'inspect' ? ['inspect', '--type', 'container'] : [to]));
  }

  // Only the command that runs is defined (commander's set-up of all of them costs ~7 ms),
  // unless the snapshot holds them all already.
  const wanted = process.argv[2];
  if (!allDefined) {
    if (wanted !== undefined && Object.hasOwn(commands, wanted)) commands[wanted]!(program);
    else for (const define of Object.values(commands)) define(program);
  }
  let argv: string[];
  try {
    argv = dockerArgv(process.argv);
  } catch (err) {
    fail(err);
  }
  program.parseAsync(argv).catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0. docker's flag errors (an unknown flag, a flag
      // without its value) exit 125; a missing or extra argument and an unknown command exit 1.
      const flag = ['commander.unknownOption', 'commander.optionMissingArgument', 'commander.invalidArgument', 'commander.conflictingOption'].includes(err.code);
      process.exit(err.exitCode === 0 ? 0 : flag ? EXIT.RUNTIME : 1);
    }
    fail(err);
  });
}

// The startup snapshot (src/core/snapshot.ts): built with every command defined.
let allDefined = false;
snapshotEntry('main.cjs', {
  warm,
  prepare: () => {
    for (const define of Object.values(commands)) define(program);
    allDefined = true;
  },
  run: main,
});
