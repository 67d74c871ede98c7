// The registry client's HTTP transport: node:http and node:https, with the little of fetch's
// Response the client uses. Node's global fetch (undici) costs ~290 ms on its first request here
// (its loading and set-up), which a repeated pull, a 30 ms job, cannot carry; node:http costs
// ~20. Redirects are followed for GET and HEAD (blob stores answer with one), at most 5. An
// AbortSignal ends a request and its body at once.
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';

// Made on first use, not at load: import.meta.url is the bundle's place, known only when the
// command runs (the startup snapshot is built elsewhere, see src/cli/main.ts).
let req: NodeJS.Require | undefined;
const require = (id: string): any => (req ??= createRequire(import.meta.url))(id);

export type Body = Buffer | string | AsyncIterable<Uint8Array>;

export class HttpResponse {
  constructor(private readonly msg: IncomingMessage) {}

  get status(): number {
    return this.msg.statusCode ?? 0;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return this.msg.statusMessage ?? '';
  }

  readonly headers = {
    get: (name: string): string | null => {
      const v = this.msg.headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };

  /** The body as chunks; `cancel()` drops what is left. */
  get body(): AsyncIterable<Uint8Array> & { cancel(): Promise<void> } {
    const msg = this.msg;
    return Object.assign(msg as unknown as AsyncIterable<Uint8Array>, {
      cancel: async (): Promise<void> => {
        msg.resume();
      },
    });
  }

  /** Drops the connection (a body no longer wanted). */
  close(): void {
    this.msg.destroy();
  }

  async arrayBuffer(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.msg) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async json(): Promise<unknown> {
    return JSON.parse((await this.arrayBuffer()).toString('utf8'));
  }
}

/** One request; a network failure rejects with Node's error (its `code`: ECONNREFUSED, …). */
export async function httpRequest(url: string, o: { method?: string; headers?: Record<string, string>; body?: Body; signal?: AbortSignal } = {}, hops = 0): Promise<HttpResponse> {
  const u = new URL(url);
  const lib = (u.protocol === 'https:' ? require('node:https') : require('node:http')) as typeof import('node:http');
  const msg: IncomingMessage = await new Promise((resolve, reject) => {
    // The signal (a Ctrl-C) destroys the request, and with it a response body still streaming.
    const req = lib.request(u, { method: o.method ?? 'GET', headers: o.headers ?? {}, ...(o.signal ? { signal: o.signal } : {}) }, resolve);
    req.on('error', reject);
    const body = o.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      void (async () => {
        try {
          for await (const chunk of body) if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', () => r()));
          req.end();
        } catch (err) {
          req.destroy(err as Error);
        }
      })();
    }
  });
  const method = o.method ?? 'GET';
  const status = msg.statusCode ?? 0;
  if ([301, 302, 303, 307, 308].includes(status) && msg.headers.location && (method === 'GET' || method === 'HEAD') && hops < 5) {
    msg.resume();
    const next = new URL(msg.headers.location, u).toString();
    // A redirect to another host (a blob store) must not carry the registry's credentials.
    const headers = { ...o.headers };
    if (new URL(next).host !== u.host) delete headers.authorization;
    return httpRequest(next, { method, headers, ...(o.signal ? { signal: o.signal } : {}) }, hops + 1);
  }
  return new HttpResponse(msg);
}
