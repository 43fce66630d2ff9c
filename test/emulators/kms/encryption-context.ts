/**
 * Canonical, unambiguous serialization of an EncryptionContext for use as AES-GCM AAD:
 * uint32 pair count, then pairs sorted by the UTF-8 bytes of the key, each as
 * uint32 length ‖ key ‖ uint32 length ‖ value. `{"ab":"c"}` and `{"a":"bc"}` therefore
 * differ (the concatenation used by other emulators does not). An absent context and
 * `{}` are the same.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export function canonicalEncryptionContext(context: EncryptionContext | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).map(
    ([key, value]) => [Buffer.from(key, "utf8"), Buffer.from(value, "utf8")] as const,
  );
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  const count = Buffer.alloc(4);
  count.writeUInt32BE(pairs.length);
  return Buffer.concat([count, ...pairs.flatMap(([key, value]) => [lengthPrefixed(key), lengthPrefixed(value)])]);
}
