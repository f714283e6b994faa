/** What a command prints about where it serves: the banner, the reach line, endpoints; and its TLS files, checked. */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createSecureContext } from 'node:tls';
import { formatUrl, type SocketAddress } from './address.js';
import { usage } from './cli-command.js';

/** Where a command writes. */
export interface CommandOutput {
  write(text: string): unknown;
}

/** The address fields the banner needs (a server's `address`). */
export interface BannerAddress {
  readonly family: string;
  readonly host: string;
  readonly port: number;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The first stdout line of every command, Python's:
 * `Serving HTTP on :: port 8000 (http://[::]:8000/) ...`. `note` goes inside the parentheses after
 * the URL (`, RFC 867 daytime`).
 */
export function formatBanner(protocol: string, address: BannerAddress, scheme: string, note = ''): string {
  const url = formatUrl(address as SocketAddress, scheme);
  return `Serving ${protocol} on ${address.host} port ${address.port} (${url}${note}) ...`;
}

/** The first IPv4 address of this host that other machines can reach, if any. */
export function lanAddress(): string | undefined {
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) return entry.address;
    }
  }
  return undefined;
}

/**
 * The line after the banner when the server listens on every interface (`::`, `0.0.0.0`), whose URL a
 * browser cannot open: where to reach it from this machine and from the network (`lan`, default the
 * first non-internal IPv4 address; `null` for none). Empty otherwise.
 * For `http`/`https` it reads `Open http://localhost:8000/ in a browser (from the network: http://192.168.1.5:8000/)`;
 * for other schemes, `Reach it at tcp://localhost:8765/ (from the network: tcp://192.168.1.5:8765/)`.
 */
export function formatReachLine(
  address: BannerAddress,
  scheme: string,
  lan: string | null | undefined = lanAddress(),
): string {
  if (address.host !== '::' && address.host !== '0.0.0.0') return '';
  const isWeb = scheme === 'http' || scheme === 'https';
  const url = (host: string) => `${scheme}://${host}:${address.port}/`;
  const network = lan == null ? '' : ` (from the network: ${url(lan)})`;
  return isWeb
    ? `Open ${url('localhost')} in a browser${network}`
    : `Reach it at ${url('localhost')}${network}`;
}

/**
 * The TLS certificate and key of `--tls-cert`/`--tls-key`, read and checked together, so a mistake is
 * a sentence (files swapped, key of another certificate) instead of an OpenSSL code. Throws
 * {@link UsageError}.
 */
export function loadTlsFiles(certPath: string, keyPath: string): { cert: Buffer; key: Buffer } {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certPath);
    key = readFileSync(keyPath);
  } catch (error) {
    const { code, path } = error as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    return usage(`cannot read the TLS ${path === keyPath ? 'key' : 'certificate'} ${path}: ${why}`);
  }
  const isKey = (pem: Buffer) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem.toString('latin1'));
  const isCert = (pem: Buffer) => pem.includes('-----BEGIN CERTIFICATE-----');
  if (isKey(cert) && isCert(key)) {
    usage(
      `--tls-cert and --tls-key are swapped: ${certPath} holds a private key and ${keyPath} a certificate`,
    );
  }
  if (!isCert(cert)) usage(`--tls-cert ${certPath} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  if (!isKey(key)) usage(`--tls-key ${keyPath} holds no PEM private key (-----BEGIN … PRIVATE KEY-----)`);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = (error as { reason?: string; message?: string }).reason ?? (error as Error).message;
    if (/key values mismatch/i.test(reason)) {
      usage(`the private key in ${keyPath} does not belong to the certificate in ${certPath}`);
    }
    usage(`cannot use the TLS certificate ${certPath} with the key ${keyPath} (${reason})`);
  }
  return { cert, key };
}

/** `host port N` as the messages name an endpoint (`[::1]:80` style, without tuples). */
export function formatEndpoint(host: string, port: number): string {
  return `${urlHost(host)}:${port}`;
}
