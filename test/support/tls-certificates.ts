// Throwaway TLS certificates made by openssl for tests: self-signed CAs and leaf certificates they sign, all EC
// P-256 and valid for one day, written into `dir` as `<name>.key` / `<name>.crt` (leaves also leave `.csr`/`.ext`).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface LeafCertificate {
  /** File stem and subject CN. */
  name: string;
  /** File stem of the CA that signs it (one of `cas`). */
  signer: string;
  /** openssl extension lines for the certificate, e.g. `extendedKeyUsage=clientAuth`. */
  ext: string;
}

/** Makes the CAs, then the leaves, in `dir` (which must exist). */
export function makeCertificates(dir: string, { cas, leaves }: { cas: string[]; leaves: LeafCertificate[] }): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const name of cas) {
    openssl(
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '1',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
  }
  for (const { name, signer, ext } of leaves) {
    fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    openssl('req', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.crt`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
}
