/** Builds real X.509 v3 certificates (RSA or P-256 keys, SHA-256 signatures) with node:crypto and der.ts. */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { bitString, bool, ctx, integer, nul, octets, oid, seq, set, time, tlv, utf8 } from "./der.ts";

export type KeyType = "rsa" | "ec";

export interface KeyPair {
  readonly type: KeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function generateKey(type: KeyType, bits: number): KeyPair {
  if (type === "ec") {
    const curve = bits === 384 ? "secp384r1" : bits === 521 ? "secp521r1" : "prime256v1";
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
    return { type, privateKey, publicKey };
  }
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits || 2048 });
  return { type, privateKey, publicKey };
}

export interface CertSpec {
  readonly subjectCn: string;
  readonly issuerCn: string;
  readonly publicKey: KeyObject;
  readonly signer: KeyPair;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly isCa: boolean;
  readonly dnsNames: readonly string[];
  readonly ipSans: readonly string[];
  /** Subject key id of the issuer (absent for a self-signed root: its own is used). */
  readonly issuerKeyId?: Buffer;
}

export interface BuiltCert {
  readonly der: Buffer;
  readonly pem: string;
  readonly serialHex: string;
  readonly keyId: Buffer;
}

const name = (cn: string) => seq(set(seq(oid("2.5.4.3"), utf8(cn))));
const ext = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function ipBytes(ip: string): Buffer {
  if (ip.includes(":")) {
    const [head = "", tail = ""] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
    return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  }
  return Buffer.from(ip.split(".").map(Number));
}

export function buildCertificate(spec: CertSpec): BuiltCert {
  const serial = randomBytes(20);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const spki = spec.publicKey.export({ type: "spki", format: "der" });
  const keyId = createHash("sha1").update(spki).digest();
  const rsa = spec.signer.type === "rsa";
  const algorithm = rsa ? seq(oid("1.2.840.113549.1.1.11"), nul()) : seq(oid("1.2.840.10045.4.3.2"));
  const extensions: Buffer[] = [];
  if (spec.isCa) {
    extensions.push(ext("2.5.29.15", true, bitString(Buffer.from([0x06]), 1))); // keyCertSign, cRLSign
    extensions.push(ext("2.5.29.19", true, seq(bool(true))));
  } else {
    extensions.push(ext("2.5.29.15", true, bitString(Buffer.from([0xa8]), 3))); // digitalSignature, keyEncipherment, keyAgreement
    extensions.push(ext("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))));
    extensions.push(ext("2.5.29.19", true, seq()));
  }
  extensions.push(ext("2.5.29.14", false, octets(keyId)));
  extensions.push(ext("2.5.29.35", false, seq(ctx(0, spec.issuerKeyId ?? keyId, false))));
  const sans = [
    ...spec.dnsNames.map((d) => tlv(0x82, Buffer.from(d, "ascii"))),
    ...spec.ipSans.map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  if (sans.length > 0) extensions.push(ext("2.5.29.17", false, seq(...sans)));
  const tbs = seq(
    ctx(0, integer(2)),
    integer(serial),
    algorithm,
    name(spec.issuerCn),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subjectCn),
    spki,
    ctx(3, seq(...extensions)),
  );
  const signature = sign("sha256", tbs, spec.signer.privateKey);
  const der = seq(tbs, algorithm, bitString(signature));
  const b64 =
    der
      .toString("base64")
      .match(/.{1,64}/g)
      ?.join("\n") ?? "";
  return {
    der,
    pem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----`,
    serialHex: serial.toString("hex"),
    keyId,
  };
}

/** Vault's private_key PEM: PKCS#1 for RSA, SEC1 for EC (private_key_format der), or PKCS#8. */
export function privateKeyPem(key: KeyPair, pkcs8: boolean): string {
  const type = pkcs8 ? "pkcs8" : key.type === "rsa" ? "pkcs1" : "sec1";
  return String(key.privateKey.export({ type, format: "pem" } as never)).trim();
}
