// A token server of the distribution token spec, for registry.test.ts: the registry answers 401
// with `Bearer realm=<this>,service=…,scope=…`, the client asks here, and the registry checks the
// token's signature against the certificate its config names (rootcertbundle) through the
// token header's x5c chain.
//
//   node token-server.js PORT KEY.pem CERT.pem ISSUER SERVICE USER:PASS LOG
//
// Anonymous: pull on any repository. USER:PASS (Basic): pull and push. Wrong credentials: 401.
// LOG gets one line per request: "token <scope> <user or -> <granted actions>".
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { X509Certificate, randomBytes, sign } from 'node:crypto';

const [port, keyFile, certFile, issuer, service, userPass, log] = process.argv.slice(2) as [string, string, string, string, string, string, string];
const key = readFileSync(keyFile, 'utf8');
const certDer = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const auth = req.headers.authorization ?? '';
  let user = '';
  if (auth.startsWith('Basic ')) {
    const given = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    if (given !== userPass) {
      appendFileSync(log, `token ${url.searchParams.get('scope') ?? '-'} refused\n`);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    user = given.split(':')[0]!;
  }
  // Each scope "repository:NAME:ACTIONS" granted what this caller may: pull, and push for the user.
  const access = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean).map((s) => {
    const [type, ...rest] = s.split(':');
    const actions = rest.pop()!.split(',');
    return { type: type!, name: rest.join(':'), actions: actions.filter((a) => a === 'pull' || (a === 'push' && user !== '')) };
  });
  appendFileSync(log, `token ${url.searchParams.getAll('scope').join(' ') || '-'} ${user || '-'} ${access.map((a) => `${a.name}:${a.actions.join(',')}`).join(' ') || '-'}\n`);
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer] };
  const claims = { iss: issuer, sub: user, aud: url.searchParams.get('service') ?? service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
  const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  // JWS ES256 wants the raw r||s pair, not DER.
  const sig = sign('sha256', Buffer.from(signing), { key, dsaEncoding: 'ieee-p1363' });
  const token = `${signing}.${b64url(sig)}`;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
}).listen(Number(port), '127.0.0.1', () => appendFileSync(log, 'listening\n'));
