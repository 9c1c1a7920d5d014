import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFiles {
  dir: string;
  /** The CA that signed the server certificate (what REDIS_TLS_CA_FILE points at). */
  caFile: string;
  /** Another CA, which did not: a client trusting only it must refuse the server. */
  otherCaFile: string;
  certFile: string;
  keyFile: string;
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA, made with openssl in a temp dir. */
export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
  for (const ca of ['ca', 'other-ca'])
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=test ${ca}`,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
    );
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  );
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * `redis-server` arguments serving TLS only on `port` with the test certificate (clients are not asked for one).
 * `tls-replication` and `tls-cluster` make replicas, sentinels and the cluster bus speak TLS too.
 */
export function tlsServerArguments(files: TlsFiles, port: number): string[] {
  return [
    ...['--port', '0', '--tls-port', String(port)],
    ...[
      '--tls-cert-file',
      files.certFile,
      '--tls-key-file',
      files.keyFile,
      '--tls-ca-cert-file',
      files.caFile,
    ],
    ...['--tls-auth-clients', 'no', '--tls-replication', 'yes'],
  ];
}

/** The socket options of a harness client trusting the test CA (nothing without TLS). */
export function tlsClientSocket(files: TlsFiles | undefined): { tls?: true; ca?: Buffer } {
  return files ? { tls: true, ca: readFileSync(files.caFile) } : {};
}
