// A client of the distribution API (issue #16): manifests and blobs over HTTP(S), with the
// token dance a registry asks for. Side-effecting (network, files). node:http(s) (src/registry/
// http.ts); loaded only by pull, push and login.
//
//   GET /v2/<repo>/manifests/<tag|digest>   Accept: the four manifest media types
//   GET /v2/<repo>/blobs/<digest>           streamed to a file, its sha256 checked as it comes
//   GET /v2/<repo>/tags/list?n=100          page after page, as each answer's Link: rel="next"
//   401 + WWW-Authenticate: Bearer realm=…  → GET realm?service=…&scope=repository:<repo>:pull
//                                             (with Basic credentials when there are some),
//                                             then the request again with the token
//
// Every failure is one line naming the registry and what to do: unknown host, connection
// refused, 401 with and without credentials, 404, 429, a digest mismatch, a truncated body
// (retried with back-off first).
import { createWriteStream, rmSync } from 'node:fs';
import { MinidockError } from '../core/errors.js';
import { cryptoLib, streamPromises } from '../core/lazy.js';
import { parseChallenge, tokenOf, tokenUrl } from './auth.js';
import { apiHost, isInsecure, type Reference } from './reference.js';
import { TAG } from '../spec/image-ref.js';
import { httpRequest, type HttpResponse } from './http.js';

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** The largest manifest accepted (docker's limit). */
const MAX_MANIFEST = 4 * 1024 * 1024;

const fail = (what: string, hint?: string, step = 'registry'): MinidockError => new MinidockError(what, { step, ...(hint ? { hint } : {}), exitCode: 1 });

export interface Credentials {
  username: string;
  password: string;
}

type RequestBody = Buffer | string | AsyncIterable<Uint8Array>;

/** A blob as it downloads (RegistryClient.openBlob). */
export interface BlobStream extends AsyncGenerator<Buffer> {
  bytes(): number;
  settle(): Promise<MinidockError | undefined>;
  close(): void;
}

/** Failures worth a second try: a body cut short, a connection dropped before its answer. */
const RETRIED = new Set(['registry.truncated', 'registry.dropped']);

/**
 * A request's network error as one line. A connection reset before the answer (ECONNRESET,
 * Node's "socket hang up", EPIPE) is registry.dropped, retried like a cut body: a registry
 * restarting, or a proxy dying while several layers are in flight, drops every waiting request
 * at once, and the retry is what finds out whether it is gone (connection refused) or back.
 */
export function connectError(registry: string, host: string, err: unknown): MinidockError {
  const cause = err as { code?: string; message?: string };
  const code = cause?.code ?? '';
  const message = cause?.message ?? String(err);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail(`${registry}: unknown host ${host}`, 'check the registry name, or the network\'s DNS', 'registry.connect');
  if (code === 'ECONNREFUSED') return fail(`${registry}: connection refused by ${host}`, 'is the registry running on that port?', 'registry.connect');
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test(message)) return fail(`${registry}: ${host} dropped the connection before it answered (${code || message})`, 'try again', 'registry.dropped');
  if (/CERT|certificate|self.signed|SSL|TLS/i.test(`${code} ${message}`)) return fail(`${registry}: TLS failed: ${message}`, 'install its CA in the system store, or list it in MINIDOCK_INSECURE_REGISTRIES', 'registry.tls');
  return fail(`${registry}: ${message}`, undefined, 'registry.connect');
}

/** The next page of a paginated answer: the Link header's `<url>; rel="next"` (RFC 8288, as
 *  the distribution spec uses it), resolved against the request's URL; undefined on the last. */
export function nextPage(link: string | null, base: string): string | undefined {
  for (const part of (link ?? '').split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(m[2]!)) return new URL(m[1]!, base).toString();
  }
  return undefined;
}

/** Blobs larger than this go up in PATCH chunks of this size (a break costs one chunk). */
const CHUNK = 16 * 1024 * 1024;

/** Tags a registry will list: at most this many pages (a loop of next links ends). */
const MAX_TAG_PAGES = 1000;

export class RegistryClient {
  readonly base: string;
  private token?: string;

  constructor(readonly ref: Reference, private readonly o: { credentials?: Credentials; insecure?: readonly string[]; retries?: number; push?: boolean; signal?: AbortSignal } = {}) {
    const host = apiHost(ref);
    this.base = `${isInsecure(ref.registry, o.insecure) ? 'http' : 'https'}://${host}`;
  }

  private url(path: string): string {
    return `${this.base}/v2/${this.ref.repository}/${path}`;
  }

  /** One request, with the token flow on a 401. A body is given as a function, so that the
   *  request can be sent again (a stream is read once). */
  private async request(url: string, headers: Record<string, string> = {}, init: { method?: string; body?: () => RequestBody } = {}): Promise<HttpResponse> {
    let res = await this.fetch(url, { ...headers, ...this.authHeader() }, init);
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate');
      await res.body?.cancel();
      if (!challenge) throw this.unauthorized();
      const c = parseChallenge(challenge);
      if (c.scheme === 'basic') {
        if (!this.o.credentials) throw this.unauthorized();
        this.mode = 'basic';
      } else {
        this.token = await this.fetchToken(tokenUrl(c, this.ref.repository, this.o.push ? 'pull,push' : 'pull'));
        this.mode = 'bearer';
      }
      res = await this.fetch(url, { ...headers, ...this.authHeader() }, init);
      if (res.status === 401) {
        await res.body?.cancel();
        throw this.unauthorized();
      }
    }
    return res;
  }

  /** What the registry asked for last: nothing yet, Basic credentials, or a Bearer token (kept
   *  for the repository: one token serves every manifest and blob of the pull). */
  private mode: 'none' | 'basic' | 'bearer' = 'none';

  private basic(): string {
    return `Basic ${Buffer.from(`${this.o.credentials!.username}:${this.o.credentials!.password}`).toString('base64')}`;
  }

  private authHeader(): Record<string, string> {
    if (this.mode === 'bearer' && this.token) return { authorization: `Bearer ${this.token}` };
    if (this.mode === 'basic' && this.o.credentials) return { authorization: this.basic() };
    return {};
  }

  /** A 401 as docker words it: without credentials, the access denied (pull or push); with
   *  credentials the token server accepted, the access still denied (a user without push, say);
   *  else the credentials refused. */
  private unauthorized(): MinidockError {
    const action = this.o.push ? 'push' : 'pull';
    if (this.o.credentials && !this.token) return fail(`${this.ref.registry}: the credentials were refused (401 Unauthorized)`, `minidock login ${this.ref.registry} with the right user and password`, 'registry.auth');
    if (this.o.credentials) return fail(`${this.ref.registry}: ${action} access denied for ${this.ref.repository}: requested access to the resource is denied`, `ask for ${action} access to ${this.ref.repository}, or minidock login ${this.ref.registry} as a user who has it`, 'registry.auth');
    return fail(`${this.ref.registry}: ${action} access denied for ${this.ref.repository}: repository does not exist or may require 'minidock login'`, `minidock login ${this.ref.registry}`, 'registry.auth');
  }

  private async fetchToken(url: string): Promise<string> {
    const headers: Record<string, string> = this.o.credentials ? { authorization: this.basic() } : {};
    const res = await this.fetch(url, headers);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw this.unauthorized();
    }
    if (!res.ok) throw fail(`${this.ref.registry}: the token server ${new URL(url).host} answered ${res.status}`, undefined, 'registry.token');
    return tokenOf(await res.json().catch(() => null));
  }

  /** fetch, its network errors as one line each. */
  private async fetch(url: string, headers: Record<string, string>, init: { method?: string; body?: () => RequestBody } = {}): Promise<HttpResponse> {
    try {
      const body = init.body?.();
      return await httpRequest(url, { headers, ...(init.method ? { method: init.method } : {}), ...(body !== undefined ? { body } : {}), ...(this.o.signal ? { signal: this.o.signal } : {}) });
    } catch (err) {
      this.interrupted();
      throw connectError(this.ref.registry, new URL(url).host, err);
    }
  }

  /** Throws the signal's reason once it has fired: what a request failed with then is the
   *  abort's doing, not the registry's. */
  interrupted(): void {
    if (this.o.signal?.aborted) throw this.o.signal.reason;
  }

  private async check(res: HttpResponse, what: string): Promise<void> {
    if (res.ok) return;
    await res.body?.cancel();
    if (res.status === 404) throw fail(`${this.ref.registry}: ${what} not found: manifest unknown, or the repository ${this.ref.repository} does not exist or may require 'minidock login'`, undefined, 'registry.404');
    if (res.status === 429) throw fail(`${this.ref.registry}: too many requests (429): the registry's rate limit`, 'wait, or minidock login for a higher limit', 'registry.429');
    throw fail(`${this.ref.registry}: ${what}: ${res.status} ${res.statusText}`);
  }

  /** A manifest or index by tag or digest: its bytes, media type and digest (computed; checked
   *  against the reference's digest when it has one). */
  async manifest(reference: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const res = await this.request(this.url(`manifests/${reference}`), { accept: MANIFEST_TYPES.join(', ') });
    await this.check(res, `manifest ${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST) throw fail(`${this.ref.registry}: manifest ${reference} is ${bytes.length} bytes, more than any real one`);
    const digest = `sha256:${cryptoLib().createHash('sha256').update(bytes).digest('hex')}`;
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw fail(`${this.ref.registry}: manifest ${reference} does not match its digest (it is ${digest})`, 'the registry or a proxy altered it', 'registry.digest');
    }
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!MANIFEST_TYPES.includes(mediaType)) {
      try {
        mediaType = String((JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType ?? mediaType);
      } catch { /* checked by the caller's parse */ }
    }
    return { bytes, mediaType, digest };
  }

  /** A blob into `file`, its sha256 checked while it streams; a body cut short is retried. */
  async blob(digest: string, file: string, onBytes?: (n: number) => void): Promise<number> {
    return this.retrying(async () => {
      const b = await this.openBlob(digest, onBytes);
      const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
      try {
        await streamPromises().pipeline(b, out);
      } catch (err) {
        rmSync(file, { force: true });
        throw err;
      }
      return b.bytes();
    });
  }

  /** `fn` again, after 0.2, 0.4 s, ... while it fails with a body cut short (a dropped
   *  connection, a registry restarting) and `go()` allows; any other failure at once. */
  async retrying<T>(fn: () => Promise<T>, go: () => boolean = () => true): Promise<T> {
    const attempts = this.o.retries ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const retry = err instanceof MinidockError && RETRIED.has(err.step ?? '') && attempt < attempts && go() && !this.o.signal?.aborted;
        if (!retry) throw err;
        await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * A blob's bytes as they stream (GET /v2/<repo>/blobs/<digest>), counted and hashed: the
   * iterator fails with registry.truncated when the body breaks off or ends short of its
   * Content-Length, and with registry.digest when its sha256 is another. A consumer that fails
   * first (gunzip on a damaged blob) calls `settle()`: the rest is read and hashed, so the report
   * can be the mismatch it is rather than gzip's complaint; `close()` drops the connection.
   */
  async openBlob(digest: string, onBytes?: (n: number) => void): Promise<BlobStream> {
    const res = await this.request(this.url(`blobs/${digest}`));
    await this.check(res, `blob ${digest}`);
    const want = Number(res.headers.get('content-length') ?? NaN);
    const h = cryptoLib().createHash('sha256');
    const it = res.body[Symbol.asyncIterator]();
    const short = digest.slice(7, 19);
    let n = 0;
    let ended = false;
    const next = async (): Promise<Buffer | undefined> => {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (err) {
        this.interrupted();
        throw fail(`${this.ref.registry}: the download of blob ${short} broke off after ${n} bytes: ${(err as Error).message}`, 'try again', 'registry.truncated');
      }
      if (r.done) {
        ended = true;
        return undefined;
      }
      n += r.value.length;
      h.update(r.value);
      return Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    };
    const verdict = (): MinidockError | undefined => {
      if (Number.isFinite(want) && n !== want) return fail(`${this.ref.registry}: the download of blob ${short} ended after ${n} of ${want} bytes`, 'try again', 'registry.truncated');
      const got = `sha256:${h.digest('hex')}`;
      if (got !== digest) return fail(`${this.ref.registry}: blob ${digest} does not match its digest (it is ${got})`, 'the registry or a proxy altered it; nothing was stored', 'registry.digest');
      return undefined;
    };
    const close = (): void => res.close();
    // Not a for-await over the body: returning from one destroys it, and settle() needs the rest.
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let c = await next(); c; c = await next()) {
        onBytes?.(n);
        yield c;
      }
      const v = verdict();
      if (v) throw v;
    }
    const stream = chunks();
    return Object.assign(stream, {
      bytes: () => n,
      close,
      settle: async (): Promise<MinidockError | undefined> => {
        try {
          while (!ended && (await next()));
        } catch {
          return undefined; // broke off: the consumer's own error stands
        } finally {
          close();
        }
        return verdict();
      },
    });
  }

  /** `login`: GET /v2/ through the auth flow; resolves when the registry accepts us. */
  async login(): Promise<void> {
    const res = await this.request(`${this.base}/v2/`);
    await this.check(res, 'the API root /v2/');
    await res.body?.cancel();
  }

  /** Whether the registry has the blob (HEAD): a push skips what is there. */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request(this.url(`blobs/${digest}`), {}, { method: 'HEAD' });
    await res.body?.cancel();
    if (res.status === 404) return false;
    if (res.ok) return true;
    await this.check(res, `blob ${digest}`);
    return false;
  }

  /**
   * A blob into the repository, the way its size suits:
   *
   *   POST uploads/?mount=D&from=R   when `mountFrom` names a repository of this registry that
   *                                  has it: 201 and no byte is sent ("Mounted from R"); a 202
   *                                  is an ordinary upload session (the registry declined)
   *   PUT  <location>?digest=D       the whole body at once, for blobs up to `chunkSize`
   *   PATCH <location>  Content-Range: a-b, one chunk after another, each answer the next
   *                                  Location and the Range the registry holds; a chunk cut off
   *                                  is resumed from that Range (GET <location> asks), then
   *   PUT  <location>?digest=D       with no body: the registry checks the digest itself.
   *
   * `open(start, end)` gives the bytes [start, end), again whenever a request is sent again.
   */
  async upload(digest: string, size: number, open: (start: number, end: number) => RequestBody, o: { mountFrom?: string; chunkSize?: number } = {}): Promise<'mounted' | 'uploaded'> {
    const first = await this.session(digest, o.mountFrom);
    if (first === 'mounted') return 'mounted';
    let location = first;
    const chunk = o.chunkSize ?? CHUNK;
    if (size > chunk) {
      let held = 0;
      for (let tries = 0; held < size;) {
        const end = Math.min(held + chunk, size);
        const from = held;
        try {
          const res = await this.request(location, { 'content-type': 'application/octet-stream', 'content-range': `${from}-${end - 1}`, 'content-length': String(end - from) }, { method: 'PATCH', body: () => open(from, end) });
          if (res.status !== 202) await this.check(res, `upload of ${digest} (bytes ${from}-${end - 1})`);
          await res.body?.cancel();
          location = this.location(res, digest);
          held = this.held(res, digest);
          if (held !== end) throw fail(`${this.ref.registry}: the upload of ${digest} holds ${held} bytes after a chunk ending at ${end}`, undefined, 'registry.upload');
        } catch (err) {
          if (!(err instanceof MinidockError && RETRIED.has(err.step ?? '')) || ++tries >= (this.o.retries ?? 3)) throw err;
          // A chunk cut off: the session's Range says where to go on. A registry that gave the
          // session up (distribution does when part of a chunk landed: its offset no longer
          // matches) answers 404, and the blob begins again in a new one.
          const status = await this.request(location);
          await status.body?.cancel();
          if (status.status === 204) {
            location = this.location(status, digest);
            held = this.held(status, digest);
          } else {
            location = (await this.session(digest)) as string;
            held = 0;
          }
        }
      }
    }
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const whole = size <= chunk;
    const res = await this.request(url.toString(), { 'content-type': 'application/octet-stream', 'content-length': whole ? String(size) : '0' }, { method: 'PUT', ...(whole ? { body: () => open(0, size) } : {}) });
    if (res.status !== 201) await this.check(res, `upload of ${digest}`);
    await res.body?.cancel();
    return 'uploaded';
  }

  /** POST uploads/: a new session's Location, or 'mounted' when a mount from `mountFrom` took. */
  private async session(digest: string, mountFrom?: string): Promise<string | 'mounted'> {
    const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    const res = await this.request(this.url(`blobs/uploads/${query}`), {}, { method: 'POST' });
    await res.body?.cancel();
    if (res.status === 201 && mountFrom) return 'mounted';
    if (res.status !== 202) await this.check(res, `upload of ${digest}`);
    return this.location(res, digest);
  }

  /** An upload session's next URL: the answer's Location, resolved against the registry. */
  private location(res: HttpResponse, digest: string): string {
    const location = res.headers.get('location');
    if (!location) throw fail(`${this.ref.registry}: the upload of ${digest} got no Location`, undefined, 'registry.upload');
    return new URL(location, this.base).toString();
  }

  /** How many bytes an upload session holds: its `Range: 0-N` (N inclusive; none yet: 0). */
  private held(res: HttpResponse, digest: string): number {
    const range = res.headers.get('range');
    if (!range) return 0;
    const m = /^(?:bytes=)?0-(\d+)$/.exec(range.trim());
    if (!m) throw fail(`${this.ref.registry}: the upload of ${digest} answered Range ${JSON.stringify(range.slice(0, 40))}`, undefined, 'registry.upload');
    // Distribution says 0-0 for an empty session too (it cannot say "none"): 0, as no chunk
    // here is one byte long.
    return Number(m[1]) === 0 ? 0 : Number(m[1]) + 1;
  }

  /** The repository's tags (`pull -a`), page by page; a next link must stay on this registry. */
  async tags(pageSize = 100): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = `${this.url('tags/list')}?n=${pageSize}`;
    for (let page = 0; url; page++) {
      if (page === MAX_TAG_PAGES) throw fail(`${this.ref.registry}: the tag list of ${this.ref.repository} goes on past ${MAX_TAG_PAGES} pages`, undefined, 'registry.tags');
      const res = await this.request(url);
      await this.check(res, `the tag list of ${this.ref.repository}`);
      const body = (await res.json().catch(() => null)) as { tags?: unknown } | null;
      if (!body || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))) throw fail(`${this.ref.registry}: the tag list of ${this.ref.repository} is not {"tags":[...]}`, undefined, 'registry.tags');
      for (const t of (body.tags as unknown[] | null) ?? []) {
        // Each becomes a local name: only what docker's tag grammar allows (no "../x").
        if (typeof t !== 'string' || !TAG.test(t)) throw fail(`${this.ref.registry}: the tag list of ${this.ref.repository} holds ${JSON.stringify(String(t).slice(0, 140))}, which is no tag`, undefined, 'registry.tags');
        tags.push(t);
      }
      const next = nextPage(res.headers.get('link'), url);
      if (next && new URL(next).origin !== new URL(this.base).origin) throw fail(`${this.ref.registry}: the tag list's next page is on another host (${new URL(next).host})`, undefined, 'registry.tags');
      url = next;
    }
    return tags;
  }

  async putManifest(tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request(this.url(`manifests/${tag}`), { 'content-type': mediaType }, { method: 'PUT', body: () => bytes });
    if (res.status !== 201) await this.check(res, `manifest ${tag}`);
    await res.body?.cancel();
    const digest = `sha256:${cryptoLib().createHash('sha256').update(bytes).digest('hex')}`;
    const said = res.headers.get('docker-content-digest');
    if (said && said !== digest) throw fail(`${this.ref.registry}: stored the manifest as ${said}, not ${digest}`, undefined, 'registry.digest');
    return digest;
  }
}
