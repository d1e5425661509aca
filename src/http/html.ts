// The landing page's HTML: escaping, and the tables its sections are made of (http/landing-page.ts,
// http/landing-apps.ts). Every text that goes into a page goes through escapeHtml.

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A table of escaped headings over rows already rendered (row()). */
export function table(headers: readonly string[], rows: readonly string[]): string {
  return `<table>
<thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** A table row; `key` (escaped) names it for tools and tests. */
export function row(key: string, cells: readonly string[]): string {
  return `<tr data-key="${escapeHtml(key)}">${cells.join('')}</tr>`;
}

/** A cell of text, escaped. */
export function cell(text: string, className = ''): string {
  return `<td${className === '' ? '' : ` class="${className}"`}>${escapeHtml(text)}</td>`;
}
