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
// LOG gets one line per request ("GET /v2/…"), and "stalled" once a stall has begun.
import { appendFileSync } from 'node:fs';
import { createServer, request } from 'node:http';

const [port, upstream, mode, digest, log] = process.argv.slice(2) as [string, string, string, string, string];
const [uhost, uport] = upstream.split(':') as [string, string];
let truncated = false;

createServer((req, res) => {
  appendFileSync(log, `${req.method} ${req.url}\n`);
  const target = req.method === 'GET' && req.url?.endsWith(`/blobs/${digest}`) && mode !== 'pass';
  const up = request({ host: uhost, port: Number(uport), method: req.method, path: req.url, headers: { ...req.headers, host: upstream } }, (ur) => {
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
  req.pipe(up);
}).listen(Number(port), '127.0.0.1', () => appendFileSync(log, 'listening\n'));
