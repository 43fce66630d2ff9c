import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseInjectorAnnotations, wantsInjection } from "../../shared/pods/injector-annotations.ts";

const settings = { defaultAuthPath: "kubernetes", vaultAnnotations: true, staticSecretRenderIntervalSeconds: 300 };
const pod = (annotations: Record<string, string>) => ({
  metadata: {
    name: "p",
    annotations: { "vault.hashicorp.com/agent-inject": "true", "vault.hashicorp.com/role": "web", ...annotations },
  },
});

test("opt-in follows strconv.ParseBool and agent-inject-status; the setting turns it all off", () => {
  assert.ok(wantsInjection({ "vault.hashicorp.com/agent-inject": "True" }));
  assert.not.ok(wantsInjection({ "vault.hashicorp.com/agent-inject": "yes" }));
  assert.not.ok(
    wantsInjection({
      "vault.hashicorp.com/agent-inject": "true",
      "vault.hashicorp.com/agent-inject-status": "injected",
    }),
  );
  assert.ok(
    wantsInjection({
      "vault.hashicorp.com/agent-inject": "true",
      "vault.hashicorp.com/agent-inject-status": "injected",
      "leasekeeper.io/secret-name": "x",
    }),
  );
  assert.is(
    parseInjectorAnnotations(pod({ "vault.hashicorp.com/agent-inject-secret-a": "kv/data/a" }), {
      ...settings,
      vaultAnnotations: false,
    }).kind,
    "not-opted-in",
  );
});

test("files: lower-cased names (unless preserve-secret-case), agent-inject-file, volume paths, perms, interval", () => {
  const result = parseInjectorAnnotations(
    pod({
      "vault.hashicorp.com/agent-inject-secret-DB": "database/creds/r",
      "vault.hashicorp.com/agent-inject-secret-Cfg": "secret/data/app",
      "vault.hashicorp.com/preserve-secret-case-Cfg": "true",
      "vault.hashicorp.com/agent-inject-file-Cfg": "conf/app.properties",
      "vault.hashicorp.com/secret-volume-path-Cfg": "/etc/app",
      "vault.hashicorp.com/agent-inject-perms-DB": "0400",
      "vault.hashicorp.com/auth-path": "auth/k8s-east",
      "vault.hashicorp.com/template-static-secret-render-interval": "1m30s",
      "vault.hashicorp.com/agent-image": "hashicorp/vault:1.17",
    }),
    settings,
  );
  if (result.kind !== "request") throw new Error(JSON.stringify(result));
  assert.is(result.request.authPath, "k8s-east");
  assert.is(result.request.staticRefreshSeconds, 90);
  assert.equal(
    result.request.secrets.map((s) => [s.file, s.mountPath, s.filePath]),
    [
      ["Cfg", "/etc/app", "conf/app.properties"],
      ["db", "/vault/secrets", "db"],
    ],
  );
  assert.equal(result.plan.mounts, [
    { mountPath: "/vault/secrets", files: [{ key: "db", path: "db", mode: 0o400 }] },
    { mountPath: "/etc/app", files: [{ key: "Cfg", path: "conf/app.properties" }] },
  ]);
  assert.equal(result.ignored, ["vault.hashicorp.com/agent-image"]);
});

test("refusals name the annotation: commands, template files, tokens, namespaces, bad templates and paths", () => {
  const reason = (a: Record<string, string>) => {
    const r = parseInjectorAnnotations(
      pod({ "vault.hashicorp.com/agent-inject-secret-a": "kv/data/a", ...a }),
      settings,
    );
    return r.kind === "invalid" ? r.reason : `not refused: ${r.kind}`;
  };
  assert.match(
    reason({ "vault.hashicorp.com/agent-inject-command-a": "pkill -HUP app" }),
    /^annotation vault\.hashicorp\.com\/agent-inject-command-a: commands/,
  );
  assert.match(
    reason({ "vault.hashicorp.com/agent-inject-template-file-a": "/vault/tpl" }),
    /agent-inject-template-file-a/,
  );
  assert.match(reason({ "vault.hashicorp.com/agent-inject-token": "true" }), /agent-inject-token/);
  assert.match(reason({ "vault.hashicorp.com/namespace": "team-a" }), /namespace: Vault Enterprise namespaces/);
  assert.match(
    reason({
      "vault.hashicorp.com/agent-inject-template-a": '{{ with secret "kv/data/a" }}{{ .Data | toYAML }}{{ end }}',
    }),
    /^annotation vault\.hashicorp\.com\/agent-inject-template-a: line 1: function "toYAML"/,
  );
  assert.match(
    reason({ "vault.hashicorp.com/agent-inject-template-a": '{{ with secret "sys/seal" }}{{ end }}' }),
    /agent-inject-template-a: line 1: secret "sys\/seal" is not a secret path/,
  );
  assert.match(reason({ "vault.hashicorp.com/agent-inject-file-a": "../etc/passwd" }), /agent-inject-file-a/);
  assert.match(
    reason({ "vault.hashicorp.com/template-static-secret-render-interval": "often" }),
    /template-static-secret-render-interval/,
  );
  assert.match(reason({ "vault.hashicorp.com/role": "" }), /role is required/);
  assert.is(
    reason({ "vault.hashicorp.com/namespace": "", "vault.hashicorp.com/agent-inject-token": "false" }),
    "not refused: request",
  );
});

test.run();
