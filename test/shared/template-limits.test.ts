/**
 * Templates come from pod annotations: whatever one asks for, rendering is bounded (steps, depth,
 * bytes), never blocks the process for long, and every failure is a TemplateError (permanent).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseTemplate } from "../../shared/templates/parser.ts";
import { renderTemplate } from "../../shared/templates/render.ts";
import { SecretValue } from "../../shared/templates/values.ts";
import { isTemplateError, type TemplateError } from "../../shared/templates/template-error.ts";
import {
  DEFAULT_JSON_TEMPLATE,
  DEFAULT_MAP_TEMPLATE,
  parseInjectorAnnotations,
} from "../../shared/pods/injector-annotations.ts";

/** The parser's MAX_BLOCK_DEPTH (kept literal so this file also runs against code without it). */
const MAX_BLOCK_DEPTH = 16;
const TWO_KEYS = { a: "1", b: "2" };
const fetchWith = (data: unknown) => async () => new SecretValue("", 0, false, data, null);

async function renderError(source: string, data: unknown = TWO_KEYS): Promise<{ err: TemplateError; ms: number }> {
  const started = performance.now();
  try {
    await renderTemplate(parseTemplate(source), fetchWith(data));
  } catch (err) {
    if (!isTemplateError(err))
      throw new Error(
        `expected a TemplateError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        { cause: err },
      );
    return { err, ms: performance.now() - started };
  }
  throw new Error("expected the render to be refused");
}

function parseError(source: string): TemplateError {
  try {
    parseTemplate(source);
  } catch (err) {
    if (isTemplateError(err)) return err;
    throw new Error(
      `expected a TemplateError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
      { cause: err },
    );
  }
  throw new Error("expected the template to be refused");
}

const nestedRanges = (n: number) =>
  `{{ $d := (secret "secret/data/x").Data }}${"{{ range $d }}".repeat(n)}x${"{{ end }}".repeat(n)}`;

test("60 nested ranges are refused at parse time; the webhook's refusal names the annotation", () => {
  const err = parseError(nestedRanges(60));
  assert.is(err.construct, "{{range}}");
  assert.match(err.message, /at most 16 nested if\/with\/range blocks/);
  const contract = parseInjectorAnnotations(
    {
      metadata: {
        name: "p",
        annotations: {
          "vault.hashicorp.com/agent-inject": "true",
          "vault.hashicorp.com/role": "r",
          "vault.hashicorp.com/agent-inject-secret-x": "secret/data/x",
          "vault.hashicorp.com/agent-inject-template-x": nestedRanges(60),
        },
      },
    },
    { defaultAuthPath: "kubernetes", vaultAnnotations: true, staticSecretRenderIntervalSeconds: 300 },
  );
  assert.is(contract.kind, "invalid");
  if (contract.kind === "invalid")
    assert.match(
      contract.reason,
      /^annotation vault\.hashicorp\.com\/agent-inject-template-x: line 1: \{\{range\}\} nests 17 blocks deep/,
    );
  // Deep parentheses cannot exhaust the parser's stack either.
  assert.is(parseError(`{{ ${"(".repeat(5000)}1${")".repeat(5000)} }}`).construct, "(");
});

test("the deepest nesting the parser allows over a two-key secret stops at the step budget, quickly and without blocking", async () => {
  let ticks = 0;
  let longestGap = 0;
  let last = performance.now();
  const heartbeat = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
    ticks++;
  }, 1);
  try {
    const { err, ms } = await renderError(nestedRanges(MAX_BLOCK_DEPTH));
    assert.is(err.construct, "budget");
    assert.match(err.message, /more than \d+ steps/);
    assert.ok(ms < 1000, `refused after ${ms.toFixed(1)} ms`);
  } finally {
    clearInterval(heartbeat);
  }
  assert.ok(ticks > 0, "timers ran while the template rendered");
  assert.ok(longestGap < 250, `the event loop was held for ${longestGap.toFixed(1)} ms`);
});

test("printf width and precision are bounded: refused at parse time for literals, at render time for formats from data", async () => {
  assert.is(parseError('{{ printf "%999999999999d" 1 }}').construct, "printf width");
  assert.is(parseError('{{ printf "%.500f" 1.5 }}').construct, "printf precision");
  assert.is(parseError('{{ printf "%1001s" "x" }}').construct, "printf width");
  const fromData = await renderError('{{ with secret "secret/data/x" }}{{ printf .Data.f 1 }}{{ end }}', {
    f: "%999999999999d",
  });
  assert.is(fromData.err.construct, "printf");
  assert.match(fromData.err.message, /width larger than 1000/);
  assert.not.match(fromData.err.message, /999/, "nothing of a format from secret data is quoted");
  const precision = await renderError('{{ with secret "secret/data/x" }}{{ printf .Data.f 1.5 }}{{ end }}', {
    f: "%.500f",
  });
  assert.match(precision.err.message, /precision larger than 100/);
  // Within the bounds, Go's output.
  const ok = await renderTemplate(parseTemplate('{{ printf "%5d|%.2f|%-3s|" 42 3.14159 "a" }}'), fetchWith({}));
  assert.is(ok, "   42|3.14|a  |");
});

test("escapes are checked when the template is lexed: no code point past U+10FFFF, no surrogate", () => {
  const big = parseError('{{ "\\UFFFFFFFF" }}');
  assert.is(big.construct, "string escape");
  assert.match(big.message, /\\UFFFFFFFF is not a valid Unicode code point/);
  assert.is(parseError('{{ "\\uD800" }}').construct, "string escape");
  assert.is(parseError('{{ "\\U00110000" }}').construct, "string escape");
});

test("functions may not churn through unbounded bytes: the work budget refuses it", async () => {
  const big = "y".repeat(64 * 1024);
  const list = Array.from({ length: 200 }, (_, i) => i);
  const { err } = await renderError(
    '{{ with secret "secret/data/x" }}{{ $b := .Data.big }}{{ range .Data.list }}{{ $x := printf "%s%s" $b $b }}{{ end }}{{ end }}',
    { big, list },
  );
  assert.is(err.construct, "printf");
  assert.match(err.message, /functions handle more than \d+ bytes/);
  assert.not.match(err.message, /yyyy/, "no value in the message");
});

test("ordinary secrets stay well inside the budgets: the default templates over 500 keys", async () => {
  const data = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`key${i}`, `value${i}`]));
  const map = await renderTemplate(parseTemplate(DEFAULT_MAP_TEMPLATE("secret/data/x")), fetchWith(data));
  assert.is(map.split("\n").length, 501);
  const json = await renderTemplate(parseTemplate(DEFAULT_JSON_TEMPLATE("secret/data/x")), fetchWith(data));
  assert.is(Object.keys(JSON.parse(json) as object).length, 500);
});

test.run();
