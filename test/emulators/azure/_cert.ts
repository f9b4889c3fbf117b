import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. The Azure SDK's
 * bearer-token policy refuses plain http, so the fake speaks HTTPS and clients trust this
 * certificate as their CA (`tlsOptions.ca`, DEPLOY_MODEL_AZURE_CA_FILE).
 */
export interface SelfSignedCert {
  key: string;
  cert: string;
  /** The certificate's file, for DEPLOY_MODEL_AZURE_CA_FILE / NODE_EXTRA_CA_CERTS. */
  certFile: string;
}

export async function selfSignedCert(dir: string): Promise<SelfSignedCert> {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8'), certFile };
}
