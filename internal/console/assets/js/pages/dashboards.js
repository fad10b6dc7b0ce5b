// Dashboards: named sets of charts whose queries hydrant refreshes on a
// schedule; exported and imported as JSON files.

import { api, base, path } from '../api.js';
import { h, fill, ago, number, errorBox, table, poll } from '../dom.js';
import { resultChart } from '../chart.js';
import { resultTable } from '../table.js';

/** The refresh intervals offered, in seconds (0: by hand only). */
const intervals = [[0, 'by hand only'], [60, 'every minute'], [300, 'every 5 minutes'], [900, 'every 15 minutes'], [3600, 'every hour'], [86400, 'every day']];

/** Says how often a dashboard refreshes. */
export function intervalText(s) {
  const known = intervals.find(([v]) => v === s);
  return known ? known[1] : `every ${number(s)} s`;
}

/**
 * A select of refresh intervals with seconds chosen; an interval not
 * offered (an imported dashboard's, say) is added.
 */
export function intervalSelect(id, seconds) {
  const el = h('select', { id }, intervals.map(([v, t]) => h('option', { value: v }, t)));
  chooseInterval(el, seconds);
  return el;
}

/** Chooses seconds in an intervalSelect. */
export function chooseInterval(el, seconds) {
  if (![...el.options].some((o) => Number(o.value) === seconds)) el.append(h('option', { value: seconds }, intervalText(seconds)));
  el.value = String(seconds);
}

export async function renderList(main) {
  const list = h('div');
  const msg = h('p', { role: 'status', 'aria-live': 'polite', class: 'small' });
  const name = h('input', { id: 'new-name', required: true, maxlength: 128 });
  const refresh = intervalSelect('new-refresh', 300);
  const file = h('input', { id: 'import-file', type: 'file', accept: 'application/json,.json', required: true });
  const importName = h('input', { id: 'import-name', maxlength: 128, placeholder: 'the name in the file', 'aria-describedby': 'import-help' });

  async function load() {
    const res = await api('/dashboards');
    fill(list, res.dashboards.length === 0 ? h('p', { class: 'empty' }, 'No dashboards yet: create one here, or add a chart from the query page.') :
      table('Dashboards', ['Dashboard', 'Charts', 'Refresh', 'Saved'], res.dashboards.map((d) => h('tr', {},
        h('td', {}, h('a', { href: `${base}${path`/dashboards/${d.name}`}` }, d.name)), h('td', {}, number(d.charts.length)),
        h('td', {}, intervalText(d.refreshSeconds)), h('td', {}, ago(d.updated)))), 'cards'));
  }

  async function create(e) {
    e.preventDefault();
    const n = name.value.trim();
    if (!n) return;
    try {
      await api('/dashboards', { method: 'POST', body: { name: n, refreshSeconds: Number(refresh.value), charts: [] } });
      location.assign(`${base}${path`/dashboards/${n}`}`);
    } catch (err) {
      fill(msg, errorBox(err));
    }
  }

  // importFile creates a dashboard from an exported file, under the name
  // in it or the one typed; an existing dashboard is never replaced.
  async function importFile(e) {
    e.preventDefault();
    const f = file.files[0];
    if (!f) return;
    const as = importName.value.trim();
    try {
      const text = await f.text();
      const res = await api(`/dashboards${as ? `?name=${encodeURIComponent(as)}` : ''}`, { method: 'POST', body: text });
      fill(msg, 'Imported ', h('a', { href: `${base}${path`/dashboards/${res.dashboard.name}`}` }, res.dashboard.name), '.');
      file.value = '';
      importName.value = '';
      await load();
    } catch (err) {
      fill(msg, errorBox(err));
    }
  }

  fill(main, h('h1', {}, 'Dashboards'),
    h('div', { class: 'cols' },
      h('form', { class: 'panel row', onsubmit: create, 'aria-labelledby': 'new-h' }, h('h2', { id: 'new-h', class: 'sr' }, 'New dashboard'),
        h('div', { class: 'field' }, h('label', { for: 'new-name' }, 'Name'), name),
        h('div', { class: 'field' }, h('label', { for: 'new-refresh' }, 'Refresh'), refresh),
        h('button', { type: 'submit', class: 'primary' }, 'Create')),
      h('form', { class: 'panel row', id: 'import', onsubmit: importFile, 'aria-labelledby': 'import-h' }, h('h2', { id: 'import-h', class: 'sr' }, 'Import a dashboard'),
        h('div', { class: 'field' }, h('label', { for: 'import-file' }, 'Import a dashboard (.json)'), file),
        h('div', { class: 'field' }, h('label', { for: 'import-name' }, 'As'), importName,
          h('span', { id: 'import-help', class: 'muted small' }, 'Leave empty to keep its name.')),
        h('button', { type: 'submit' }, 'Import'))),
    msg, list);
  await load();
  return null;
}

export async function renderOne(main, [name]) {
  let page = await api(path`/dashboards/${name}`);
  const grid = h('div', { class: 'grid', id: 'dashboard-charts' });
  const refreshed = h('span', { class: 'muted small', role: 'status' });
  const msg = h('p', { role: 'status', 'aria-live': 'polite', class: 'small' });
  const refresh = intervalSelect('refresh', page.dashboard.refreshSeconds);
  let charts = [];
  let drawnAt = '';

  async function save(d) {
    try {
      page = await api(path`/dashboards/${name}`, { method: 'PUT', body: d });
      fill(msg, 'Saved.');
      draw(true);
    } catch (e) {
      fill(msg, errorBox(e));
    }
  }

  refresh.addEventListener('change', () => save({ ...page.dashboard, refreshSeconds: Number(refresh.value) }));

  function draw(force) {
    const r = page.results;
    fill(refreshed, r.refreshing ? 'refreshing…' : r.refreshed ? `refreshed ${ago(r.refreshed)}` : 'not refreshed yet');
    const stamp = `${r.refreshed}|${page.dashboard.updated}`;
    if (!force && stamp === drawnAt) return;
    drawnAt = stamp;
    for (const c of charts) c.destroy();
    charts = [];
    fill(grid);
    if (page.dashboard.charts.length === 0) {
      grid.append(h('p', { class: 'empty' }, 'No charts yet: run a query on the ', h('a', { href: `${base}/query` }, 'query page'), ' and add its chart here.'));
      return;
    }
    page.dashboard.charts.forEach((spec, i) => {
      const res = r.charts[i];
      const plot = h('div', { class: 'plot' });
      const remove = h('button', { type: 'button', class: 'danger small', 'aria-label': `Remove chart ${spec.title}`, onclick: () => {
        const d = { ...page.dashboard, charts: page.dashboard.charts.filter((_, k) => k !== i) };
        save(d);
      } }, 'Remove');
      const fig = h('figure', { class: 'panel chart', 'aria-label': spec.title },
        h('div', { class: 'row spread' }, h('h3', {}, spec.title), remove), plot,
        h('details', {}, h('summary', { class: 'small' }, 'Query'), h('pre', { class: 'raw' }, spec.sql)));
      grid.append(fig);
      if (!res) fill(plot, h('p', { class: 'muted' }, 'Waiting for the first refresh…'));
      else if (res.error) fill(plot, errorBox(res.error));
      else if (spec.type === 'table') fill(plot, resultTable(res, spec.title));
      else {
        try {
          charts.push(resultChart(plot, res, spec, 240));
        } catch (e) {
          fill(plot, errorBox(e));
        }
      }
    });
  }

  async function refreshNow() {
    try {
      await api(path`/dashboards/${name}/refresh`, { method: 'POST' });
      fill(msg, 'Refreshing…');
    } catch (e) {
      fill(msg, errorBox(e));
    }
  }

  async function remove() {
    if (!window.confirm(`Delete dashboard ${name}?`)) return;
    try {
      await api(path`/dashboards/${name}`, { method: 'DELETE' });
      location.assign(`${base}/dashboards`);
    } catch (e) {
      fill(msg, errorBox(e));
    }
  }

  fill(main,
    h('div', { class: 'head' }, h('h1', {}, name), refreshed,
      h('div', { class: 'actions' },
        h('label', { for: 'refresh', class: 'row' }, 'Refresh', refresh),
        h('button', { type: 'button', id: 'refresh-now', onclick: refreshNow }, 'Refresh now'),
        h('a', { class: 'button', id: 'export', href: `${base}/api${path`/dashboards/${name}/export`}`, download: `${name}.dashboard.json` }, 'Export'),
        h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete'))),
    page.dashboard.description ? h('p', {}, page.dashboard.description) : null,
    msg, grid);
  draw(true);
  // The results are read again every 3 seconds, and every second while a
  // refresh is awaited.
  let read = Date.now();
  const stop = poll(async () => {
    const r = page.results;
    const waiting = r.refreshing || !r.refreshed || r.charts.length !== page.dashboard.charts.length;
    if (!waiting && Date.now() - read < 3000) return;
    read = Date.now();
    page = await api(path`/dashboards/${name}`);
    draw(false);
  }, 1000);
  return () => {
    stop();
    for (const c of charts) c.destroy();
  };
}
