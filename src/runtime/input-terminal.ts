// docker's client refuses -it when its stdin is not a terminal: it could neither put it in raw
// mode nor relay keystrokes as typed (and the run would hang reading a pipe as a terminal).
// Its own module: exec checks it without loading run's.
import { MinidockError } from '../core/errors.js';
import { ttyLib } from '../core/lazy.js';

export function checkInputTerminal(wanted: boolean): void {
  if (wanted && !ttyLib().isatty(0)) throw new MinidockError('the input device is not a TTY', { step: 'cli.tty', exitCode: 1, hint: 'drop -t, or run it from a terminal' });
}
