/** Helpers for contract tests that drive the emulator with the real @kubernetes/client-node. */
import * as assert from "node:assert/strict";
import { ApiException, KubeConfig, type V1Pod, type V1Volume } from "@kubernetes/client-node";
import type { KubernetesEmulator } from "./index.ts";

/** A KubeConfig for the emulator (plain http needs skipTLSVerify, spec §3.4). */
export function kubeConfigFor(emu: Pick<KubernetesEmulator, "url" | "adminToken">, token = emu.adminToken): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "emu", server: emu.url, skipTLSVerify: true }],
    users: [{ name: "u", token }],
    contexts: [{ name: "c", cluster: "emu", user: "u", namespace: "default" }],
    currentContext: "c",
  });
  return kc;
}

export interface StatusLike {
  kind?: string;
  status?: string;
  reason?: string;
  message?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    group?: string;
    causes?: { reason?: string; field?: string; message?: string }[];
    retryAfterSeconds?: number;
  };
}

/** Awaits a rejected client call and returns the ApiException code and parsed Status body. */
export async function apiError(
  p: Promise<unknown>,
): Promise<{ code: number; status: StatusLike; headers: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected ApiException, got ${String(err)}`);
    const e = err as ApiException<unknown>;
    const body = typeof e.body === "string" && e.body !== "" ? (JSON.parse(e.body) as StatusLike) : {};
    return { code: e.code, status: body, headers: e.headers };
  }
  assert.fail("expected the call to fail");
}

/** Polls until fn returns a truthy value (or throws after timeoutMs). */
export async function eventually<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Raw HTTP against the emulator (for garbage input the typed client would refuse to send). */
export async function raw(
  emu: Pick<KubernetesEmulator, "url" | "adminToken">,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => StatusLike }> {
  const init: RequestInit = {
    method,
    headers: { Authorization: `Bearer ${emu.adminToken}`, "Content-Type": "application/json", ...headers },
  };
  if (body !== undefined) init.body = body;
  const res = await fetch(`${emu.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as StatusLike };
}

export function podManifest(
  name: string,
  extra: { labels?: Record<string, string>; nodeName?: string; serviceAccountName?: string; volumes?: V1Volume[] } = {},
): V1Pod {
  const pod: V1Pod = {
    metadata: name.endsWith("-") ? { generateName: name } : { name },
    spec: { containers: [{ name: "app", image: "nginx:1.27" }] },
  };
  if (extra.labels !== undefined) pod.metadata = { ...pod.metadata, labels: extra.labels };
  if (pod.spec !== undefined) {
    if (extra.nodeName !== undefined) pod.spec.nodeName = extra.nodeName;
    if (extra.serviceAccountName !== undefined) pod.spec.serviceAccountName = extra.serviceAccountName;
    if (extra.volumes !== undefined) pod.spec.volumes = extra.volumes;
  }
  return pod;
}
