/** State of the `pki/` mount: one root CA (generated lazily at first use, like a mount set up with root/generate/internal) and roles. */
import { buildCertificate, generateKey, type BuiltCert, type KeyPair, type KeyType } from "./x509-build.ts";

export interface PkiRole {
  name: string;
  allowed_domains: string[];
  allow_subdomains: boolean;
  allow_bare_domains: boolean;
  allow_any_name: boolean;
  allow_localhost: boolean;
  allow_ip_sans: boolean;
  key_type: KeyType | "any";
  key_bits: number;
  ttl: number;
  max_ttl: number;
  generate_lease: boolean;
}

export interface PkiCa {
  readonly key: KeyPair;
  readonly cert: BuiltCert;
  readonly commonName: string;
  readonly notAfter: number;
}

export interface IssuedCert {
  readonly serial: string;
  readonly notAfter: number;
  readonly commonName: string;
  revokedAt: number | null;
}

export class PkiState {
  readonly roles = new Map<string, PkiRole>();
  readonly issued: IssuedCert[] = [];
  #ca: PkiCa | undefined;

  ca(now: number): PkiCa {
    this.#ca ??= this.generateRoot("Vault Emulator Root CA", 10 * 365 * 24 * 3600, now);
    return this.#ca;
  }

  generateRoot(commonName: string, ttlSeconds: number, now: number): PkiCa {
    const key = generateKey("rsa", 2048);
    const notAfter = now + ttlSeconds * 1000;
    const cert = buildCertificate({
      subjectCn: commonName,
      issuerCn: commonName,
      publicKey: key.publicKey,
      signer: key,
      notBefore: now - 30_000,
      notAfter,
      isCa: true,
      dnsNames: [],
      ipSans: [],
    });
    this.#ca = { key, cert, commonName, notAfter };
    return this.#ca;
  }
}
