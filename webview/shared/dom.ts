// Building DOM without innerHTML (nothing is parsed from strings, and no inline styles: the CSP
// allows neither).

type Attrs = Record<string, string | number | boolean | null | undefined>;
type Child = Node | string | null | undefined | false;

/**
 * `el('button', { type: 'button', class: 'x', 'aria-label': 'Stop' }, 'Stop')`. Attribute values:
 * true sets an empty attribute, false/null/undefined leaves it out.
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function setAttrs(e: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'style') throw new Error('use the CSSOM (element.style), not a style attribute: the CSP forbids it');
    if (v === false || v === null || v === undefined) e.removeAttribute(k);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
}

let nextId = 0;
/** A document-unique id with a readable prefix. */
export function uid(prefix: string): string {
  return `${prefix}-${++nextId}`;
}

/** Replaces a table's caption, head and body with `t` (a data-table alternative of a chart). */
export function fillTable(table: HTMLTableElement, t: { caption: string; columns: string[]; rows: string[][] }): void {
  const caption = el('caption', {}, t.caption);
  const head = el('thead', {}, el('tr', {}, ...t.columns.map((c) => el('th', { scope: 'col' }, c))));
  const body = el(
    'tbody',
    {},
    ...t.rows.map((r) => el('tr', {}, ...r.map((cell, i) => (i === 0 ? el('th', { scope: 'row' }, cell) : el('td', {}, cell))))),
  );
  table.replaceChildren(caption, head, body);
}
