/** The parsed form of a Go template in leasekeeper's subset. */

export type Operand =
  | { readonly kind: "dot"; readonly chain: readonly string[] }
  | { readonly kind: "field"; readonly chain: readonly string[] }
  | { readonly kind: "variable"; readonly name: string; readonly chain: readonly string[] }
  | { readonly kind: "function"; readonly name: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "nil" }
  | { readonly kind: "pipe"; readonly pipe: Pipeline; readonly chain: readonly string[] };

export interface Command {
  readonly args: readonly Operand[];
  readonly line: number;
}

export interface Pipeline {
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  readonly decl: readonly string[];
  readonly assign: boolean;
  readonly cmds: readonly Command[];
  readonly line: number;
}

export type TemplateNode =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "action"; readonly pipe: Pipeline }
  | {
      readonly kind: "if" | "with";
      readonly pipe: Pipeline;
      readonly body: TemplateNode[];
      elseBody: TemplateNode[] | undefined;
    }
  | {
      readonly kind: "range";
      readonly pipe: Pipeline;
      readonly body: TemplateNode[];
      elseBody: TemplateNode[] | undefined;
    };

/** A `secret "path" "k=v" ...` call whose arguments are all literals, found at parse time. */
export interface SecretCall {
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly line: number;
}

export interface ParsedTemplate {
  readonly nodes: readonly TemplateNode[];
  readonly secretCalls: readonly SecretCall[];
}

/** One key per distinct Vault request, so identical calls across files share one response. */
export function secretCallKey(path: string, params: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k] ?? ""}`);
  return pairs.length === 0 ? path : `${path}?${pairs.join("&")}`;
}
