// The /etc/hostname, /etc/hosts and /etc/resolv.conf a container gets, as docker writes them. Pure.

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

/** docker's /etc/hosts: the loopback and IPv6 names, --add-host lines, then the container's own. */
export function hostsFile(hostname: string, ip?: string, extra: Array<[string, string]> = []): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const [name, addr] of extra) lines.push(`${addr}\t${name}`);
  if (ip) lines.push(`${ip}\t${hostname}`);
  return lines.join('\n') + '\n';
}

/**
 * The host's resolv.conf minus loopback and IPv6 nameservers: a resolver on 127.0.0.x
 * (systemd-resolved's 127.0.0.53) is the host's loopback, unreachable from the container's
 * network namespace, and minidock's networks are IPv4 only, as docker's are by default. When
 * none is left, docker falls back to public resolvers; so does this.
 */
export function resolvConf(hostText: string, dns?: { servers: string[]; search: string[]; options: string[] }): string {
  if (dns) return customResolvConf(hostText, dns);
  const kept: string[] = [];
  let servers = 0;
  for (const line of hostText.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) {
      // Loopback resolvers are the host's; IPv6 ones unreachable (containers are IPv4-only).
      if (/^127\./.test(m[1]!) || m[1]!.includes(':')) continue;
      servers++;
    }
    kept.push(line);
  }
  let out = kept.join('\n').replace(/\n+$/, '');
  if (servers === 0) out += (out ? '\n' : '') + 'nameserver 8.8.8.8\nnameserver 8.8.4.4';
  return out + '\n';
}

/** --dns, --dns-search, --dns-option: each given part replaces the host's, the others are kept
 *  (the host's nameservers filtered as above), written in docker's order: nameservers, search,
 *  options. */
function customResolvConf(hostText: string, dns: { servers: string[]; search: string[]; options: string[] }): string {
  const base = resolvConf(hostText);
  const hostLines = (key: string): string[] => base.split('\n').filter((l) => new RegExp(`^\\s*${key}\\s`).test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const servers = dns.servers.length ? dns.servers : hostLines('nameserver');
  const search = dns.search.length ? dns.search : hostLines('search');
  const options = dns.options.length ? dns.options : hostLines('options');
  const out = servers.map((s) => `nameserver ${s}`);
  if (search.length && search.join(' ').trim() !== '.') out.push(`search ${search.join(' ')}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}
