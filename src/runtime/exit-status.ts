// Maps a wait status and a child's failure report to docker's exit codes and messages. Pure.
import { EXIT, MinidockError } from '../core/errors.js';
import type { ChildFailure, WaitResult } from '../native/binding.js';

/** The command's own code, or 128+N when signal N killed it (a shell's convention, and docker's). */
export function exitCodeOf(r: WaitResult): number {
  if (r.exitCode !== null) return r.exitCode;
  return 128 + (r.signal ?? 0);
}

/** Turns the child's report into the error the user sees, with 126/127 where the command
 *  itself could not run, as docker reports OCI runtime failures. */
export function childFailureError(f: ChildFailure, argv0: string): MinidockError {
  const where = { step: f.step, errno: f.code };
  if (f.step === 'child.exec.path') {
    return new MinidockError(`exec: "${argv0}": executable file not found in $PATH`, {
      ...where, exitCode: EXIT.NOT_FOUND, hint: 'check the command name, or give its full path',
    });
  }
  if (f.step === 'child.exec') {
    if (f.code === 'ENOENT' || f.code === 'ENOTDIR') {
      return new MinidockError(`exec: "${argv0}": stat ${argv0}: no such file or directory`, { ...where, exitCode: EXIT.NOT_FOUND });
    }
    if (f.code === 'EACCES' || f.code === 'ENOEXEC' || f.code === 'EISDIR' || f.code === 'EPERM') {
      return new MinidockError(`exec: "${argv0}": ${f.message.toLowerCase()}`, {
        ...where, exitCode: EXIT.CANNOT_INVOKE, hint: 'the file exists but cannot be executed (mode, format or a missing interpreter)',
      });
    }
  }
  if (f.step === 'child.chdir.cwd') {
    return new MinidockError(`cannot enter the working directory "${f.detail}": ${f.message.toLowerCase()}`, {
      ...where, exitCode: EXIT.CANNOT_INVOKE, hint: 'give -w a directory of the image',
    });
  }
  const detail = f.detail ? ` ${f.detail}` : '';
  return new MinidockError(`container setup failed at ${f.step}${detail}: ${f.message || 'unknown error'}${f.code ? ` (${f.code})` : ''}`, where);
}
