/**
 * TLS for the emulator's listener, like a vault-helm deployment with `tls_cert_file` issued for the
 * Service names: a private CA and a leaf certificate whose SANs are exactly the given DNS names (no IP
 * SAN), so a client must connect with one of those names as servername (SNI) to verify it.
 */
import { buildCertificate, generateKey, privateKeyPem, type BuiltCert, type KeyPair } from "./x509-build.ts";

export interface VaultTlsCa {
  readonly commonName: string;
  readonly key: KeyPair;
  readonly cert: BuiltCert;
  /** PEM of the CA certificate: what a client trusts (VAULT_CACERT). */
  readonly pem: string;
}

export interface ServerTls {
  readonly key: string;
  readonly cert: string;
  readonly caPem: string;
  readonly names: readonly string[];
}

const DAY_MS = 86_400_000;

/** A CA for one emulated deployment (share it between replicas so one CA file verifies all of them). */
export function createVaultTlsCa(commonName = "Vault Emulator TLS CA"): VaultTlsCa {
  const key = generateKey("ec", 256);
  const now = Date.now();
  const cert = buildCertificate({
    subjectCn: commonName,
    issuerCn: commonName,
    publicKey: key.publicKey,
    signer: key,
    notBefore: now - 60_000,
    notAfter: now + 365 * DAY_MS,
    isCa: true,
    dnsNames: [],
    ipSans: [],
  });
  return { commonName, key, cert, pem: cert.pem };
}

/** A server certificate for `names` (DNS SANs only) signed by `ca`. */
export function serverTls(names: readonly string[], ca: VaultTlsCa): ServerTls {
  if (names.length === 0) throw new Error("vault emulator tls: at least one DNS name is needed");
  const key = generateKey("ec", 256);
  const now = Date.now();
  const cert = buildCertificate({
    subjectCn: names[0] as string,
    issuerCn: ca.commonName,
    publicKey: key.publicKey,
    signer: ca.key,
    notBefore: now - 60_000,
    notAfter: now + 90 * DAY_MS,
    isCa: false,
    dnsNames: names,
    ipSans: [],
    issuerKeyId: ca.cert.keyId,
  });
  return { key: privateKeyPem(key, true), cert: `${cert.pem}\n`, caPem: ca.pem, names: [...names] };
}
