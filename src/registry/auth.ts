// Registry authentication (issue #16), the parts that are pure: the WWW-Authenticate challenge
// a registry answers 401 with (RFC 7235; the distribution token spec's Bearer realm, service and
// scope), and the token request it asks for.
import { MinidockError } from '../core/errors.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`;
 *  several challenges in one header take the first this client speaks (Bearer over Basic). */
export function parseChallenge(header: string): Challenge {
  const found: Challenge[] = [];
  let i = 0;
  const s = header.trim();
  while (i < s.length) {
    const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*/.exec(s.slice(i));
    if (!m) break;
    const scheme = m[1]!.toLowerCase();
    i += m[0].length;
    const params: Record<string, string> = {};
    // key=value or key="quoted \"value\"", comma-separated, until the next scheme word.
    for (;;) {
      const kv = /^([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*,?\s*/.exec(s.slice(i));
      if (!kv) break;
      params[kv[1]!.toLowerCase()] = kv[2] !== undefined ? kv[2].replace(/\\(.)/g, '$1') : kv[3]!;
      i += kv[0].length;
    }
    if (scheme === 'basic' || scheme === 'bearer') found.push({ scheme, params });
  }
  const pick = found.find((c) => c.scheme === 'bearer') ?? found[0];
  if (!pick) throw new MinidockError(`the registry asks for an authentication this client does not speak: ${JSON.stringify(header.slice(0, 100))}`, { step: 'registry.auth', exitCode: 1 });
  if (pick.scheme === 'bearer' && !pick.params.realm) throw new MinidockError('the registry\'s Bearer challenge names no realm (no token server)', { step: 'registry.auth', exitCode: 1 });
  return pick;
}

/** The token request of the distribution token spec: realm?service=…&scope=… (the scope the
 *  challenge named, else pull on the repository). */
export function tokenUrl(c: Challenge, repository: string, actions = 'pull'): string {
  const url = new URL(c.params.realm!);
  if (c.params.service) url.searchParams.set('service', c.params.service);
  // login asks with no repository: no scope, as docker login does (the server's default access).
  // A challenge may name several scopes, space-separated (a mount: the source's pull too); the
  // token spec sends each as its own scope parameter.
  const scope = c.params.scope ?? (repository ? `repository:${repository}:${actions}` : undefined);
  for (const one of (scope ?? '').split(' ').filter(Boolean)) url.searchParams.append('scope', one);
  return url.toString();
}

/** A token server's answer: {token} or {access_token} (both are in use). */
export function tokenOf(body: unknown): string {
  const o = body as { token?: unknown; access_token?: unknown } | null;
  const t = typeof o?.token === 'string' && o.token ? o.token : typeof o?.access_token === 'string' ? o.access_token : '';
  if (!t) throw new MinidockError('the token server answered without a token', { step: 'registry.token', exitCode: 1 });
  return t;
}
