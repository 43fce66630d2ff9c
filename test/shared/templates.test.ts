import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseTemplate } from "../../shared/templates/parser.ts";
import { renderTemplate } from "../../shared/templates/render.ts";
import { SecretValue } from "../../shared/templates/values.ts";
import { isTemplateError, type TemplateError } from "../../shared/templates/template-error.ts";
import { DEFAULT_JSON_TEMPLATE, DEFAULT_MAP_TEMPLATE } from "../../shared/pods/injector-annotations.ts";

const KV = {
  data: { password: "s3cr3t", username: "app" },
  metadata: {
    created_time: "2024-05-20T10:13:20.123456789Z",
    custom_metadata: null,
    deletion_time: "",
    destroyed: false,
    version: 2,
  },
};
const DB = { password: "A1a-pw", username: "v-token-role-x" };
const PKI = { certificate: "CERT", issuing_ca: "CA", private_key: "KEY", expiration: 1700000000, ca_chain: ["CA"] };
const calls: Array<[string, Record<string, string>]> = [];

async function render(source: string): Promise<string> {
  calls.length = 0;
  return renderTemplate(parseTemplate(source), async (path, params) => {
    calls.push([path, { ...params }]);
    const data = path.startsWith("secret/") ? KV : path.startsWith("pki/") ? PKI : DB;
    return new SecretValue(path.startsWith("database/") ? "database/creds/r/abc" : "", 3600, true, data, null);
  });
}

function refused(source: string): TemplateError {
  try {
    parseTemplate(source);
  } catch (err) {
    if (isTemplateError(err)) return err;
    throw err;
  }
  throw new Error("expected a TemplateError");
}

test("the injector's default map template: Go's map printing, sorted keys, <nil>, trailing newline", async () => {
  assert.is(
    await render(DEFAULT_MAP_TEMPLATE("secret/data/app")),
    "data: map[password:s3cr3t username:app]\nmetadata: map[created_time:2024-05-20T10:13:20.123456789Z custom_metadata:<nil> deletion_time: destroyed:false version:2]\n",
  );
  assert.is(await render(DEFAULT_MAP_TEMPLATE("database/creds/r")), "password: A1a-pw\nusername: v-token-role-x\n");
});

test("the json default template and toJSON / toJSONPretty: Go's encoding/json (sorted keys, HTML escapes)", async () => {
  assert.is(
    await render(DEFAULT_JSON_TEMPLATE("database/creds/r")),
    '{"password":"A1a-pw","username":"v-token-role-x"}\n',
  );
  assert.is(
    await render('{{ with secret "database/creds/r" }}{{ .Data | toJSONPretty }}{{ end }}'),
    '{\n  "password": "A1a-pw",\n  "username": "v-token-role-x"\n}',
  );
  assert.is(await render('{{ printf "<a&b>" | toJSON }}'), '"\\u003ca\\u0026b\\u003e"');
});

test("{{- -}} trimming, .Data.data (KV v2), if/else, range over a map and a slice, variables", async () => {
  assert.is(
    await render('{{- with secret "secret/data/app" -}}\n  password={{ .Data.data.password }}\n{{- end }}\n'),
    "password=s3cr3t\n",
  );
  assert.is(
    await render(
      '{{ with secret "secret/data/app" }}{{ if eq .Data.data.username "app" }}yes{{ else if .Data.data.x }}x{{ else }}no{{ end }}{{ end }}',
    ),
    "yes",
  );
  assert.is(
    await render(
      '{{ with secret "secret/data/app" }}{{ range $k, $v := .Data.data }}{{ $k }}={{ $v }};{{ end }}{{ end }}',
    ),
    "password=s3cr3t;username=app;",
  );
  assert.is(
    await render(
      '{{ with secret "pki/issue/r" "common_name=a.example.com" }}{{ range $i, $c := .Data.ca_chain }}{{ $i }}:{{ $c }}{{ end }}{{ end }}',
    ),
    "0:CA",
  );
  assert.is(
    await render(
      '{{ $s := secret "secret/data/app" }}{{ $s.Data.data.username }}/{{ (secret "secret/data/app").Data.data.password }}',
    ),
    "app/s3cr3t",
  );
  assert.is(
    await render('{{ with secret "secret/data/app" }}{{ range .Data.missing }}x{{ else }}empty{{ end }}{{ end }}'),
    "empty",
  );
});

test("secret with parameters is one call with key=value pairs; printf, base64, index; missing keys print <no value>", async () => {
  assert.is(
    await render(
      '{{ with secret "pki/issue/web" "common_name=web.example.com" "ttl=24h" }}{{ .Data.certificate }}{{ end }}',
    ),
    "CERT",
  );
  assert.equal(calls, [["pki/issue/web", { common_name: "web.example.com", ttl: "24h" }]]);
  assert.is(
    await render(
      '{{ with secret "secret/data/app" }}{{ printf "%s:%05d:%-4s|%q %v" .Data.data.username 7 "ab" "x" .Data.metadata.version }}{{ end }}',
    ),
    'app:00007:ab  |"x" 2',
  );
  assert.is(
    await render(
      '{{ with secret "secret/data/app" }}{{ index .Data.data "password" | base64Encode }} {{ "czNjcjN0" | base64Decode }}{{ end }}',
    ),
    "czNjcjN0 s3cr3t",
  );
  assert.is(await render('{{ with secret "secret/data/app" }}{{ .Data.data.nope }}{{ end }}'), "<no value>");
  assert.is(await render("{{/* a comment */}}a {{- /* trimmed */ -}} b"), "ab");
});

test("constructs outside the subset are refused with the construct named", () => {
  const fn = refused('{{ with secret "secret/data/app" }}\n{{ .Data | toYAML }}{{ end }}');
  assert.is(fn.construct, "toYAML");
  assert.is(fn.line, 2);
  assert.match(fn.message, /function "toYAML" is outside leasekeeper's template subset/);
  assert.is(refused('{{ define "x" }}{{ end }}').construct, "{{define}}");
  assert.is(refused('{{ template "x" }}').construct, "{{template}}");
  assert.is(refused('{{ printf "%e" 1.5 }}').construct, "printf %e");
  assert.is(refused('{{ with secret "a/b" }}').construct, "{{with}}");
  assert.is(refused("{{ end }}").construct, "end");
  assert.is(refused("{{ secret .Path }}").construct, "secret");
  assert.is(refused("{{ .a ! }}").construct, 'character "!"');
});

test("runtime errors name the construct and never print a value", async () => {
  try {
    await render('{{ with secret "secret/data/app" }}{{ range .Data.data.password }}{{ end }}{{ end }}');
    assert.unreachable();
  } catch (err) {
    assert.ok(isTemplateError(err));
    assert.not.match((err as Error).message, /s3cr3t/);
  }
  try {
    await render('{{ with secret "secret/data/app" }}{{ .Data.data.nope.deeper }}{{ end }}');
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /nil pointer evaluating interface \{\}\.deeper/);
  }
});

test.run();
