/**
 * Reads members of an awsJson1_1 request body. Wrong JSON types fail at once with
 * SerializationException (as a deserializer would); constraint violations are collected
 * and reported together by `done()` as one Coral-style ValidationException. Unknown
 * members (GrantTokens, DryRun, ...) are ignored.
 */
import type { EncryptionContext } from "./encryption-context.ts";
import { serializationError, validationError } from "./errors.ts";

export type JsonObject = Record<string, unknown>;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface Presence {
  required?: boolean;
}

function memberPath(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export class RequestInput {
  private readonly violations: string[] = [];

  constructor(private readonly body: JsonObject) {}

  private raw(name: string, options: Presence): unknown {
    const value = this.body[name];
    if (value === undefined || value === null) {
      if (options.required === true) {
        this.violations.push(
          `Value null at '${memberPath(name)}' failed to satisfy constraint: Member must not be null`,
        );
      }
      return undefined;
    }
    return value;
  }

  private lengthCheck(name: string, length: number, shown: string, min?: number, max?: number): void {
    const at = `${shown} at '${memberPath(name)}' failed to satisfy constraint: Member must have length`;
    if (min !== undefined && length < min) this.violations.push(`${at} greater than or equal to ${min}`);
    if (max !== undefined && length > max) this.violations.push(`${at} less than or equal to ${max}`);
  }

  string(
    name: string,
    options: Presence & { min?: number; max?: number; pattern?: RegExp; oneOf?: readonly string[] } = {},
  ): string | undefined {
    const value = this.raw(name, options);
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw serializationError(`Member '${name}' must be a string`);
    this.lengthCheck(name, value.length, `Value '${value}'`, options.min ?? 1, options.max);
    const at = `Value '${value}' at '${memberPath(name)}' failed to satisfy constraint:`;
    if (options.pattern !== undefined && !options.pattern.test(value)) {
      this.violations.push(`${at} Member must satisfy regular expression pattern: ${options.pattern.source}`);
    }
    if (options.oneOf !== undefined && !options.oneOf.includes(value)) {
      this.violations.push(`${at} Member must satisfy enum value set: [${options.oneOf.join(", ")}]`);
    }
    return value;
  }

  integer(name: string, options: Presence & { min?: number; max?: number } = {}): number | undefined {
    const value = this.raw(name, options);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw serializationError(`Member '${name}' must be an integer`);
    }
    const at = `Value '${value}' at '${memberPath(name)}' failed to satisfy constraint: Member must have value`;
    if (options.min !== undefined && value < options.min)
      this.violations.push(`${at} greater than or equal to ${options.min}`);
    if (options.max !== undefined && value > options.max)
      this.violations.push(`${at} less than or equal to ${options.max}`);
    return value;
  }

  /** A base64 blob; its value is never echoed in messages. */
  blob(name: string, options: Presence & { min: number; max: number }): Buffer | undefined {
    const value = this.raw(name, options);
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !BASE64.test(value)) {
      throw serializationError(`Member '${name}' must be a base64-encoded blob`);
    }
    const bytes = Buffer.from(value, "base64");
    this.lengthCheck(name, bytes.length, "Value", options.min, options.max);
    return bytes;
  }

  encryptionContext(name: string): EncryptionContext | undefined {
    const value = this.raw(name, {});
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw serializationError(`Member '${name}' must be a map`);
    for (const entry of Object.values(value as JsonObject)) {
      if (typeof entry !== "string") throw serializationError(`Values of '${name}' must be strings`);
    }
    return value as EncryptionContext;
  }

  /** Throws one ValidationException listing every violation seen so far. */
  done(): void {
    if (this.violations.length > 0) throw validationError(this.violations);
  }
}
