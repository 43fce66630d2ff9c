/** A plain HTML page listing the API from its OpenAPI document (no scripts, no CDN). */
export function docsPage(doc: {
  info?: { title?: string; version?: string; description?: string };
  paths?: Record<string, Record<string, { summary?: string; description?: string }>>;
}): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      rows.push(
        `<tr><td><code>${esc(method.toUpperCase())}</code></td><td><code>${esc(path)}</code></td><td>${esc(op.summary ?? "")}<br><small>${esc(op.description ?? "")}</small></td></tr>`,
      );
    }
  }
  const title = esc(doc.info?.title ?? "API");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}td{vertical-align:top;padding:.4rem;border-bottom:1px solid #ddd}small{color:#555}</style></head>
<body><h1>${title} ${esc(doc.info?.version ?? "")}</h1><p>${esc(doc.info?.description ?? "")}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></body></html>`;
}
