// The query page: an SQL editor over the query engine (Athena's dialect)
// with the Glue tables and their columns beside it, results as a table,
// and a chart built from a result in one step, which can be added to a
// dashboard.

import { api, base, path } from '../api.js';
import { app } from '../app.js';
import { h, fill, number, bytes, badge, stateKind, errorBox, poll } from '../dom.js';
import { resultChart, suggest, isNumberColumn } from '../chart.js';
import { resultTable } from '../table.js';
import { intervalSelect, chooseInterval, intervalText } from './dashboards.js';

export async function render(main) {
  if (!app.features.query) {
    fill(main, h('h1', {}, 'Query'), h('p', { class: 'notice' }, 'The query engine (Athena) is not served by this hydrant.'));
    return null;
  }
  const sql = h('textarea', { id: 'sql', rows: 8, spellcheck: 'false', 'aria-describedby': 'sql-help' },
    sessionStorage.getItem('hydrant.sql') || 'SELECT 1 AS one');
  const db = h('select', { id: 'database' }, h('option', { value: '' }, '(none)'));
  const run = h('button', { type: 'submit', class: 'primary', id: 'run' }, 'Run');
  const status = h('div', { role: 'status', 'aria-live': 'polite', class: 'row' });
  const results = h('div', { id: 'results' });
  const builder = h('div', { id: 'chart-builder' });
  const catalog = h('div', { class: 'catalog', id: 'catalog' }, h('p', { class: 'muted small' }, 'Loading tables…'));
  let current = null;
  let chart = null;
  let stopPoll = null;

  const form = h('form', { class: 'panel stack', onsubmit: (e) => { e.preventDefault(); start(); } },
    h('div', { class: 'field' }, h('label', { for: 'sql' }, 'SQL'), sql,
      h('span', { id: 'sql-help', class: 'muted small' }, 'Athena\'s dialect. Ctrl+Enter runs the query.')),
    h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'database' }, 'Database'), db), h('div', { class: 'row' }, run)));
  sql.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      start();
    }
  });

  fill(main, h('h1', {}, 'Query'),
    h('div', { class: 'side' },
      h('aside', { class: 'panel', 'aria-labelledby': 'cat-h' }, h('h2', { id: 'cat-h' }, 'Tables'), catalog),
      h('div', {}, form, status, results, builder)));

  loadCatalog(catalog, db, sql);

  async function start() {
    if (stopPoll) stopPoll();
    stopPoll = null;
    sessionStorage.setItem('hydrant.sql', sql.value);
    run.disabled = true;
    fill(status, badge('RUNNING', 'warn'), ' Running…');
    fill(results);
    fill(builder);
    const t0 = performance.now();
    try {
      const res = await api('/queries', { method: 'POST', body: { sql: sql.value, database: db.value } });
      await settle(res, t0);
    } catch (e) {
      fill(status, errorBox(e));
    } finally {
      run.disabled = false;
    }
  }

  // settle shows a result, or polls a query still running.
  async function settle(res, t0) {
    if (res.state === 'QUEUED' || res.state === 'RUNNING') {
      fill(status, badge(res.state, 'warn'), ' Still running…');
      await new Promise((resolve) => {
        stopPoll = poll(async () => {
          const r = await api(path`/queries/${res.id}`);
          if (r.state !== 'QUEUED' && r.state !== 'RUNNING') {
            stopPoll();
            stopPoll = null;
            show(r, t0);
            resolve();
          }
        }, 1000);
      });
      return;
    }
    show(res, t0);
  }

  function show(res, t0) {
    current = res;
    if (res.state !== 'SUCCEEDED') {
      fill(status, badge(res.state, stateKind(res.state)), ' ', res.reason || '');
      return;
    }
    const t1 = performance.now();
    const tableEl = resultTable(res);
    fill(results, tableEl);
    const renderMs = performance.now() - t1;
    results.dataset.renderMs = renderMs.toFixed(1);
    fill(status, badge('SUCCEEDED', 'ok'), ` ${number(res.rows.length)} rows${res.next ? ' (more available)' : ''} · engine ${number(res.engineMillis)} ms · scanned ${bytes(res.scannedBytes)} · ${number(performance.now() - t0)} ms in all`,
      res.next ? h('button', { type: 'button', id: 'more', onclick: () => more(res) }, 'Load 1,000 more') : null);
    chartBuilder(res);
  }

  async function more(res) {
    try {
      const page = await api(`${path`/queries/${res.id}`}?next=${encodeURIComponent(res.next)}`);
      res.rows.push(...page.rows);
      res.next = page.next;
      show(res, performance.now());
    } catch (e) {
      fill(status, errorBox(e));
    }
  }

  function chartBuilder(res) {
    if (res.columns.length < 2 || !res.columns.some(isNumberColumn)) {
      fill(builder, h('p', { class: 'muted small' }, 'Select a numeric column next to a time or category column to draw a chart.'));
      return;
    }
    const s = suggest(res.columns);
    const type = h('select', { id: 'chart-type' }, [['line', 'Line over time'], ['bar', 'Bar by category']].map(([v, t]) => h('option', { value: v, selected: v === s.type }, t)));
    const x = h('select', { id: 'chart-x' }, res.columns.map((c) => h('option', { value: c.name, selected: c.name === s.x }, c.name)));
    const ys = h('fieldset', { id: 'chart-y' }, h('legend', {}, 'Measures'),
      res.columns.filter(isNumberColumn).map((c, i) => h('label', { class: 'row', for: `y-${i}` },
        h('input', { type: 'checkbox', id: `y-${i}`, value: c.name, checked: s.y.includes(c.name) }), c.name)));
    const plot = h('div', { class: 'plot', id: 'query-chart' });
    const msg = h('p', { class: 'small', role: 'status' });
    const spec = () => ({ type: type.value, x: x.value, y: [...ys.querySelectorAll('input:checked')].map((i) => i.value) });
    const draw = () => {
      if (chart) chart.destroy();
      chart = null;
      fill(plot);
      try {
        chart = resultChart(plot, res, spec(), 260);
        fill(msg);
      } catch (e) {
        fill(msg, errorBox(e));
      }
    };
    const dashName = h('input', { id: 'dash-name', list: 'dash-list', required: true, placeholder: 'dashboard name' });
    const dashList = h('datalist', { id: 'dash-list' });
    const title = h('input', { id: 'chart-title', value: s.y.length ? `${s.y.join(', ')} by ${s.x}` : 'Chart' });
    // The schedule shown is the chosen dashboard's (a new one's: every
    // 5 minutes); saving the chart saves the schedule chosen.
    const dashRefresh = intervalSelect('dash-refresh', 300);
    const addMsg = h('p', { class: 'small', role: 'status', 'aria-live': 'polite' });
    let known = [];
    api('/dashboards').then((r) => {
      known = r.dashboards;
      fill(dashList, known.map((d) => h('option', { value: d.name })));
    }).catch(() => {});
    dashName.addEventListener('input', () => {
      const d = known.find((k) => k.name === dashName.value.trim());
      if (d) chooseInterval(dashRefresh, d.refreshSeconds);
    });
    fill(builder, h('section', { class: 'panel', 'aria-labelledby': 'chart-h' }, h('h2', { id: 'chart-h' }, 'Chart'),
      h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'chart-type' }, 'Chart'), type),
        h('div', { class: 'field' }, h('label', { for: 'chart-x' }, 'X axis'), x), ys,
        h('button', { type: 'button', id: 'draw', onclick: draw }, 'Draw')),
      msg, plot,
      h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); addToDashboard(); } },
        h('div', { class: 'field' }, h('label', { for: 'chart-title' }, 'Chart title'), title),
        h('div', { class: 'field' }, h('label', { for: 'dash-name' }, 'Dashboard'), dashName, dashList),
        h('div', { class: 'field' }, h('label', { for: 'dash-refresh' }, 'Refresh'), dashRefresh),
        h('button', { type: 'submit', id: 'add-to-dashboard' }, 'Add to dashboard')),
      addMsg));
    for (const el of [type, x, ys]) el.addEventListener('change', draw);
    draw();

    async function addToDashboard() {
      const name = dashName.value.trim();
      if (!name) {
        fill(addMsg, errorBox('Name the dashboard to add the chart to.'));
        return;
      }
      const entry = { title: title.value || 'Chart', sql: sql.value, database: db.value, ...spec() };
      try {
        const { dashboards } = await api('/dashboards');
        const dash = dashboards.find((d) => d.name === name) || { name, charts: [] };
        dash.refreshSeconds = Number(dashRefresh.value);
        dash.charts.push(entry);
        await api(path`/dashboards/${name}`, { method: 'PUT', body: dash });
        known = dashboards.filter((d) => d.name !== name).concat([dash]);
        fill(addMsg, 'Added to ', h('a', { href: `${base}${path`/dashboards/${name}`}` }, name), `, refreshed ${intervalText(dash.refreshSeconds)}.`);
      } catch (e) {
        fill(addMsg, errorBox(e));
      }
    }
  }

  return () => {
    if (stopPoll) stopPoll();
    if (chart) chart.destroy();
  };
}

async function loadCatalog(el, select, sql) {
  if (!app.features.catalog) {
    fill(el, h('p', { class: 'muted small' }, 'No Glue catalog.'));
    return;
  }
  let cat;
  try {
    cat = await api('/catalog');
  } catch (e) {
    fill(el, errorBox(e));
    return;
  }
  for (const d of cat.databases) select.append(h('option', { value: d.name }, d.name));
  if (cat.databases.length > 0) select.value = cat.databases[0].name;
  const insert = (text) => {
    const { selectionStart: a, selectionEnd: b, value } = sql;
    sql.value = value.slice(0, a) + text + value.slice(b);
    sql.focus();
    sql.selectionStart = sql.selectionEnd = a + text.length;
  };
  const tableItem = (d, t) => h('details', {}, h('summary', {}, t.name),
    h('ul', {},
      h('li', {}, h('button', {
        type: 'button', class: 'link',
        onclick: () => {
          select.value = d.name;
          sql.value = `SELECT * FROM "${d.name}"."${t.name}" LIMIT 100`;
          sql.focus();
        },
      }, 'SELECT * … LIMIT 100')),
      [...t.columns, ...t.partitionKeys].map((c) => h('li', {},
        h('button', { type: 'button', class: 'link', onclick: () => insert(c.name) }, c.name),
        h('span', { class: 'type' }, c.type)))));
  if (cat.databases.length === 0) {
    fill(el, h('p', { class: 'muted small' }, 'No databases yet: create them with aws glue create-database.'));
    return;
  }
  fill(el, cat.databases.map((d) => h('details', { open: true }, h('summary', {}, d.name),
    d.tables.length === 0 ? h('p', { class: 'muted small' }, 'no tables') : d.tables.map((t) => tableItem(d, t)))));
}
