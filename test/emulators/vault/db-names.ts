/** Generated credentials: Vault's default username template and default password policy. */
import { randomInt } from "node:crypto";
import { base62, pick } from "./ids.ts";

/** `v-<display name|8>-<role|8>-<20 random>-<unix seconds>`, truncated to 63. */
export function generateUsername(displayName: string, roleName: string, nowMs: number): string {
  const name = `v-${displayName.slice(0, 8)}-${roleName.slice(0, 8)}-${base62(20)}-${Math.floor(nowMs / 1000)}`;
  return name.slice(0, 63);
}

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
const ALL = `${LOWER}${UPPER}${DIGITS}-`;

/** Default password policy: 20 chars of [a-zA-Z0-9-], at least one of each class and one `-`. */
export function generatePassword(): string {
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), "-"];
  while (chars.length < 20) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const a = chars[i] as string;
    chars[i] = chars[j] as string;
    chars[j] = a;
  }
  return chars.join("");
}
