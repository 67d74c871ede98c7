// A tiny HTTP proxy in front of a test registry, for the faults a pull must survive or report
// (issue #16). Run as its own process (so a test can kill it by pid mid-download, as a registry
// dying), in the test's network namespace:
//
//   node registry-proxy.js LISTEN_PORT UPSTREAM_HOST:PORT MODE DIGEST LOG
//
// MODE, for GETs of blob DIGEST (every other request passes untouched):
//   pass           nothing changed
//   corrupt        one byte in the middle flipped (a wrong digest, Content-Length intact)
//   truncate-once  the first GET: half the body, then the connection dropped; later ones pass
//   stall          half the body, then nothing: the test kills this process
//   drop-patch-once  the first PATCH (an upload chunk): none of its body to the registry (DIGEST
//                  "none") or half of it ("half"), then both connections dropped; later ones
//                  pass
//   paginate       (DIGEST is the page size) tag lists in pages, each with a Link rel="next"
//                  as Docker Hub and distribution 3 answer (2.8 returns every tag at once)
// The client's Host header goes up unchanged: the registry's Locations (upload sessions) then
// name the proxy, so every request of an upload comes through here.
// LOG gets one line per request ("GET /v2/…"), and "stalled" once a stall has begun.
import { appendFileSync } from 'node:fs';
import { createServer, request } from 'node:http';

const [port, upstream, mode, digest, log] = process.argv.slice(2) as [string, string, string, string, string];
const [uhost, uport] = upstream.split(':') as [string, string];
let truncated = false;
let dropped = false;

createServer((req, res) => {
  appendFileSync(log, `${req.method} ${req.url}\n`);
  const url = new URL(req.url ?? '/', 'http://x');
  const list = mode === 'paginate' && req.method === 'GET' && url.pathname.endsWith('/tags/list');
  const target = list || (req.method === 'GET' && req.url?.endsWith(`/blobs/${digest}`) && mode !== 'pass');
  const up = request({ host: uhost, port: Number(uport), method: req.method, path: list ? url.pathname : req.url, headers: req.headers }, (ur) => {
    if (list) {
      const chunks: Buffer[] = [];
      ur.on('data', (c: Buffer) => chunks.push(c));
      ur.on('end', () => {
        // The spec's order (lexical), n at most the page size, from after `last`.
        const all = ((JSON.parse(Buffer.concat(chunks).toString()) as { tags: string[] }).tags ?? []).sort();
        const n = Math.min(Number(url.searchParams.get('n') ?? digest), Number(digest));
        const last = url.searchParams.get('last');
        const from = last ? all.findIndex((t) => t > last) : 0;
        const page = from < 0 ? [] : all.slice(from, from + n);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (from >= 0 && from + n < all.length) headers.link = `<${url.pathname}?n=${n}&last=${encodeURIComponent(page[page.length - 1]!)}>; rel="next"`;
        res.writeHead(ur.statusCode ?? 502, headers).end(JSON.stringify({ name: 'x', tags: page }));
      });
      return;
    }
    if (!target || (mode === 'truncate-once' && truncated)) {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
      return;
    }
    const chunks: Buffer[] = [];
    ur.on('data', (c: Buffer) => chunks.push(c));
    ur.on('end', () => {
      const body = Buffer.concat(chunks);
      const half = body.length >> 1;
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (mode === 'corrupt') {
        body[half] = body[half]! ^ 0xff;
        res.end(body);
      } else if (mode === 'truncate-once') {
        truncated = true;
        res.write(body.subarray(0, half), () => res.socket?.destroy());
      } else {
        res.write(body.subarray(0, half), () => appendFileSync(log, 'stalled\n'));
      }
    });
  });
  up.on('error', () => res.destroy());
  if (mode === 'drop-patch-once' && req.method === 'PATCH' && !dropped) {
    dropped = true;
    const half = digest === 'half' ? Number(req.headers['content-length'] ?? 0) >> 1 : 0;
    let sent = 0;
    const drop = (): void => {
      appendFileSync(log, 'dropped\n');
      // Give the registry a moment to take what it got, then cut both sides.
      setTimeout(() => {
        up.destroy();
        req.socket.destroy();
      }, 200);
    };
    if (half === 0) {
      up.flushHeaders();
      req.once('data', drop);
      return;
    }
    req.on('data', (c: Buffer) => {
      if (sent >= half) return;
      const part = c.subarray(0, half - sent);
      sent += part.length;
      up.write(part);
      if (sent >= half) drop();
    });
    return;
  }
  req.pipe(up);
}).listen(Number(port), '127.0.0.1', () => appendFileSync(log, 'listening\n'));
