// The result table of queries and dashboards: quick to draw at any size.

import { h } from './dom.js';

// Rows drawn at once: what the result box shows and a screenful more.
// The rest follow in chunks, one per frame, so a long result never holds
// the page up.
const firstRows = 100;
const chunkRows = 250;

/**
 * Renders a result as a table, quickly: text nodes only, column widths
 * fixed up front from the header and the first rows (the cells are
 * monospace) so the browser lays the table out without measuring every
 * cell, the first rows at once and the rest frame by frame. A cut cell's
 * full text is in its title. data-complete is set once every row is in.
 */
export function resultTable(result, label = 'Query results') {
  const sample = result.rows.slice(0, 200);
  const widths = result.columns.map((c, i) => {
    let w = c.name.length + 2;
    for (const r of sample) w = Math.max(w, r[i] === null || r[i] === undefined ? 4 : String(r[i]).length);
    return Math.min(w, 48) + 2;
  });
  const colgroup = document.createElement('colgroup');
  for (const w of widths) {
    const col = document.createElement('col');
    col.style.width = `${w}ch`;
    colgroup.appendChild(col);
  }
  const thead = h('thead', {}, h('tr', {}, result.columns.map((c) => h('th', { scope: 'col', title: `${c.name} (${c.type})` }, c.name))));
  const tbody = document.createElement('tbody');
  const table = h('table', { class: 'fixed', 'aria-rowcount': result.rows.length + 1 }, colgroup, thead, tbody);
  table.style.width = `${widths.reduce((a, b) => a + b, 0) + 2}ch`;
  const wrap = h('div', { class: 'table-wrap results', role: 'region', 'aria-label': label, tabindex: 0 }, table);
  const add = (from, to) => {
    const frag = document.createDocumentFragment();
    for (let r = from; r < to; r++) {
      const tr = document.createElement('tr');
      for (const v of result.rows[r]) {
        const td = document.createElement('td');
        if (v === null || v === undefined) {
          td.className = 'null';
          td.textContent = 'NULL';
        } else {
          td.textContent = v;
          if (v.length > 46) td.title = v;
        }
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    tbody.appendChild(frag);
  };
  let done = Math.min(firstRows, result.rows.length);
  add(0, done);
  const more = () => {
    if (!wrap.isConnected) return; // the page moved on
    const to = Math.min(done + chunkRows, result.rows.length);
    add(done, to);
    done = to;
    if (done < result.rows.length) requestAnimationFrame(more);
    else wrap.dataset.complete = 'true';
  };
  if (done < result.rows.length) requestAnimationFrame(more);
  else wrap.dataset.complete = 'true';
  return wrap;
}
