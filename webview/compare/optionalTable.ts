// A results table the Compare view shows only when the comparison has one (Over seeds, Over training):
// its section, heading, note and table, filled or hidden as each comparison says.
import { el, fillTable } from '../shared/dom';

export interface TableData {
  columns: string[];
  rows: string[][];
}

export class OptionalTable {
  readonly section: HTMLElement;
  private readonly table: HTMLTableElement;
  private present = false;

  constructor(id: string, label: string, title: string, note: string, private readonly caption: string) {
    this.table = el('table', { id: `${id}-table`, class: 'data results' });
    this.section = el('section', { id, class: 'results-section', 'aria-label': label });
    this.section.append(el('h2', {}, title), el('p', { class: 'note' }, note), el('div', { class: 'table-scroll' }, this.table));
  }

  /** The comparison's table, or none: then the section stays hidden. */
  fill(data: TableData | undefined): void {
    this.present = !!data;
    fillTable(this.table, { caption: this.caption, ...(data ?? { columns: [], rows: [] }) });
  }

  show(visible: boolean): void {
    this.section.hidden = !visible || !this.present;
  }
}
