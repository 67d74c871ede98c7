// `minidock inspect`, `image inspect` and `network inspect`: one way through all three, as
// docker's inspect is one command with --type. Each kind has a finder that returns the object
// docker would print for a reference, or undefined; the command prints them as one JSON array,
// or a Go template run over each (strict: a misspelt field is an error, as docker's is).
//
// docker's rules kept here:
//   - without --type a reference is looked for as a container, an image, a network, a volume;
//     what is found nowhere is "Error: No such object: REF" (with --type: "No such container").
//   - every reference found is printed, those not found are reported on stderr, exit 1 if any.
//   - a template that does not parse is refused before anything is looked up, exit 64 (docker's
//     inspect returns StatusError 64 for it); one that fails while running exits 1.
//   - `/name`, the form docker's own .Name prints, names the container `name`.
import { formatForUser, MinidockError, usageError } from '../core/errors.js';

export type InspectKind = 'container' | 'image' | 'network' | 'volume';

const KINDS: readonly InspectKind[] = ['container', 'image', 'network', 'volume'];

/** Finds the object a reference names, or undefined; throws only for a real failure. */
export type Finder = (ref: string) => object | undefined;

/** The kinds looked in for `--type` (all three when not given), or a usage error. */
export function inspectKinds(type: string | undefined): readonly InspectKind[] {
  if (type === undefined || type === '') return KINDS;
  if (!(KINDS as readonly string[]).includes(type)) {
    throw usageError(`"${type}" is not a valid value for --type`, 'use --type container, image, network or volume');
  }
  return [type as InspectKind];
}

/** What stderr says for a reference found in none of `kinds`. */
export function notFoundLine(kinds: readonly InspectKind[], ref: string): string {
  return kinds.length === 1 ? `Error: No such ${kinds[0]}: ${ref}` : `Error: No such object: ${ref}`;
}

async function finder(root: string, kind: InspectKind): Promise<Finder> {
  switch (kind) {
    case 'container':
      return (await import('./ps.js')).containerFinder(root);
    case 'image':
      return (await import('./images.js')).imageFinder(root);
    case 'network':
      return (await import('./network.js')).networkFinder(root);
    case 'volume':
      return (await import('./volumes.js')).volumeFinder(root);
  }
}

/** Runs inspect over `refs`; returns the exit code. */
export async function inspectObjects(root: string, refs: string[], o: { format?: string; kinds: readonly InspectKind[] }): Promise<number> {
  const tpl = o.format === undefined ? undefined : await import('../runtime/go-template.js');
  if (tpl) {
    try {
      tpl.checkTemplate(o.format!);
    } catch (err) {
      throw new MinidockError(`Template parsing error: ${(err as Error).message.replace(/^template parsing error: /, '')}`, { step: 'cli.args', exitCode: 64 });
    }
  }
  const finders: Finder[] = [];
  for (const k of o.kinds) finders.push(await finder(root, k));
  const found: object[] = [];
  let failed = false;
  for (const ref of refs) {
    let obj: object | undefined;
    try {
      for (const find of finders) if ((obj = find(ref)) !== undefined) break;
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
      continue;
    }
    if (obj === undefined) {
      failed = true;
      process.stderr.write(notFoundLine(o.kinds, ref) + '\n');
    } else found.push(obj);
  }
  if (tpl) {
    for (const obj of found) {
      let text: string;
      try {
        text = tpl.renderTemplate(o.format!, obj, { strict: true });
      } catch (err) {
        throw new MinidockError(`Template parsing error: ${(err as Error).message.replace(/^template parsing error: /, '')}`, { step: 'inspect.format', exitCode: 1 });
      }
      process.stdout.write(text + '\n');
    }
  } else process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  return failed ? 1 : 0;
}
