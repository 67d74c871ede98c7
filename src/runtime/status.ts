// What may be done to a container in each state, and docker's words when it may not. Pure:
// every lifecycle command asks here first, so the rules live in one place.
import { MinidockError } from '../core/errors.js';
import type { ContainerRecord } from './state.js';

export type Action = 'start' | 'stop' | 'kill' | 'exec' | 'remove' | 'remove-force' | 'top' | 'pause' | 'unpause';

/** Why `action` is refused for `rec`, or undefined when it is allowed. */
export function refusal(action: Action, rec: ContainerRecord): string | undefined {
  const name = rec.spec?.name ?? rec.id.slice(0, 12);
  if (rec.broken) {
    // Only forced removal can clear a container whose state cannot be read: nothing says its
    // processes are gone, and rm -f ends whatever is in its cgroups first.
    return action === 'remove-force' ? undefined : `container ${name} is broken (${rec.broken}): remove it with rm -f`;
  }
  const running = rec.state?.status === 'running';
  switch (action) {
    case 'start':
    case 'remove-force':
    case 'stop':
      return undefined; // start and stop of a container already there are no-ops, as in docker
    case 'kill':
      return running ? undefined : `cannot kill container: ${name}: container is not running`;
    case 'exec':
      return running ? undefined : `container ${name} is not running`;
    case 'top':
      return running ? undefined : `container ${name} is not running`;
    case 'pause':
    case 'unpause':
      // Whether it is paused already is the kernel's answer (freezer.ts), asked after this.
      return running ? undefined : `Container ${name} is not running`;
    case 'remove':
      return running ? `cannot remove container "/${name}": container is running: stop the container before removing or force remove` : undefined;
  }
}

export const canStart = (rec: ContainerRecord): boolean => refusal('start', rec) === undefined && rec.state?.status !== 'running';
export const canStop = (rec: ContainerRecord): boolean => rec.state?.status === 'running';
export const canExec = (rec: ContainerRecord): boolean => refusal('exec', rec) === undefined;
export const canRemove = (rec: ContainerRecord, force: boolean): boolean => refusal(force ? 'remove-force' : 'remove', rec) === undefined;

/** Throws the refusal as a one-line error (exit 1, docker's code for these). */
export function check(action: Action, rec: ContainerRecord, hint?: string): void {
  const why = refusal(action, rec);
  if (why) throw new MinidockError(why, { step: action, exitCode: 1, hint });
}
