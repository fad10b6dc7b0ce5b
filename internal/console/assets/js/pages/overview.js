// The overview: every stream with its status, incoming records/s,
// delivery success, data freshness, bytes waiting and last error, live;
// the functions and alarms with their states; the server's health.

import { api, base, path } from '../api.js';
import { app, showHealth } from '../app.js';
import { h, fill, setText, bytes, number, seconds, ago, badge, stateKind, table, labelCells, errorBox, poll } from '../dom.js';

// The summary is polled every few seconds; the first two polls are a
// second apart so that rates show at once.
const pollMs = 5000;

export async function render(main) {
  const streamsBody = h('tbody');
  const functionsBody = h('tbody');
  const alarmsBody = h('tbody');
  const healthEl = h('div', { role: 'status' });
  const updated = h('span', { class: 'muted small', 'aria-live': 'off' });
  const streamsCount = h('span', { class: 'muted' });
  const rows = new Map();
  let prev = null;

  const streamsTable = h('div', { class: 'table-wrap cards', role: 'region', 'aria-label': 'Delivery streams', tabindex: 0 },
    h('table', { id: 'streams' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Stream'), h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col', class: 'num' }, 'Incoming rec/s'), h('th', { scope: 'col', class: 'num' }, 'Delivery success'),
        h('th', { scope: 'col', class: 'num' }, 'Data freshness'), h('th', { scope: 'col', class: 'num' }, 'Waiting on disk'),
        h('th', { scope: 'col' }, 'Last error'))),
      streamsBody));

  fill(main,
    h('div', { class: 'head' }, h('h1', {}, 'Overview'), h('div', { class: 'actions' }, updated)),
    h('section', { class: 'panel', 'aria-labelledby': 'health-h' }, h('h2', { id: 'health-h' }, 'Health'), healthEl),
    h('section', { 'aria-labelledby': 'streams-h' }, h('h2', { id: 'streams-h' }, 'Delivery streams ', streamsCount), streamsTable),
    app.features.functions ? h('section', { 'aria-labelledby': 'fn-h' }, h('h2', { id: 'fn-h' }, 'Functions'),
      table('Functions', ['Function', 'Runtime', 'State', h('th', { scope: 'col', class: 'num' }, 'Instances'), h('th', { scope: 'col', class: 'num' }, 'Idle')], [], 'cards')) : null,
    app.features.alarms ? h('section', { 'aria-labelledby': 'al-h' }, h('h2', { id: 'al-h' }, 'Alarms'),
      table('Alarms', ['Alarm', 'State', 'Reason', 'Since'], [], 'cards')) : null);
  // The tables above were built empty; their bodies are filled live.
  const fnTable = main.querySelector('section[aria-labelledby="fn-h"] tbody');
  if (fnTable) fnTable.replaceWith(functionsBody);
  const alTable = main.querySelector('section[aria-labelledby="al-h"] tbody');
  if (alTable) alTable.replaceWith(alarmsBody);

  function update(s) {
    showHealth(s.health);
    fill(healthEl, badge(s.health.status, stateKind(s.health.status)), ' ',
      s.health.status === 'ok' ? 'Every readiness check passes.' : (s.health.reasons || []).join('; ') || 'Starting.');
    setText(updated, `updated ${new Date(s.time).toLocaleTimeString('en-GB')}`);
    setText(streamsCount, `(${s.streams.length})`);
    const dt = prev ? (Date.parse(s.time) - Date.parse(prev.time)) / 1000 : 0;
    const before = new Map(prev ? prev.streams.map((x) => [x.name, x]) : []);
    const seen = new Set();
    let next = streamsBody.firstChild;
    for (const st of s.streams) {
      seen.add(st.name);
      let row = rows.get(st.name);
      if (!row) {
        row = streamRow(st.name);
        rows.set(st.name, row);
      }
      if (row.tr !== next) streamsBody.insertBefore(row.tr, next);
      next = row.tr.nextSibling;
      updateRow(row, st, before.get(st.name), dt);
    }
    for (const [name, row] of rows) {
      if (!seen.has(name)) {
        row.tr.remove();
        rows.delete(name);
      }
    }
    if (s.streams.length === 0 && !streamsBody.firstChild) {
      streamsBody.append(h('tr', { class: 'empty-row' }, h('td', { colspan: 7, class: 'empty' },
        'No delivery streams yet: create one with aws firehose create-delivery-stream.')));
    } else if (s.streams.length > 0) {
      for (const tr of streamsBody.querySelectorAll('.empty-row')) tr.remove();
    }
    if (app.features.functions) {
      fillLabelled(functionsBody, ['Function', 'Runtime', 'State', 'Instances', 'Idle'], s.functions.length === 0 ? h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No hosted functions.')) :
        s.functions.map((f) => h('tr', {},
          h('td', {}, h('a', { href: `${base}/functions/${encodeURIComponent(f.name)}` }, f.name)),
          h('td', {}, f.runtime), h('td', {}, badge(f.state || '—', stateKind(f.state))),
          h('td', { class: 'num' }, number(f.instances)), h('td', { class: 'num' }, number(f.idle)))));
    }
    if (app.features.alarms) {
      fillLabelled(alarmsBody, ['Alarm', 'State', 'Reason', 'Since'], s.alarmsError ? h('tr', {}, h('td', { colspan: 4 }, errorBox(s.alarmsError))) :
        s.alarms.length === 0 ? h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No alarms.')) :
          s.alarms.map((a) => h('tr', {},
            h('td', {}, h('a', { href: `${base}/alarms/${encodeURIComponent(a.name)}` }, a.name)),
            h('td', {}, badge(a.state, stateKind(a.state))), h('td', { class: 'wrap' }, a.reason), h('td', {}, ago(a.updated)))));
    }
    prev = s;
  }

  const ready = app.summary;
  app.summary = null;
  update(ready || await api('/summary'));
  // The browser test reads this mark: time from navigation to a full table.
  performance.mark('hydrant:overview-rendered');
  return poll(async () => update(await api('/summary')), pollMs, 1000);
}

/** Fills a table body with rows, each cell labelled with its column. */
function fillLabelled(body, names, rows) {
  const list = Array.isArray(rows) ? rows : [rows];
  labelCells(names, list);
  fill(body, list);
}

/** A stream's row, with the cells the live update writes. */
function streamRow(name) {
  const link = h('a', { href: `${base}/streams/${encodeURIComponent(name)}` }, name);
  const td = (label, cls) => h('td', { class: cls, dataset: { label } });
  const cells = {
    status: td('Status'), rate: td('Incoming rec/s', 'num'), success: td('Delivery success', 'num'),
    freshness: td('Data freshness', 'num'), waiting: td('Waiting on disk', 'num'), error: td('Last error', 'wrap'),
  };
  const tr = h('tr', { dataset: { stream: name } }, h('th', { scope: 'row' }, link), cells.status, cells.rate, cells.success,
    cells.freshness, cells.waiting, cells.error);
  return { tr, cells, state: {} };
}

function updateRow(row, st, before, dt) {
  const c = row.cells;
  if (row.state.status !== st.status) {
    fill(c.status, badge(st.status, stateKind(st.status)));
    row.state.status = st.status;
  }
  if (before && dt > 0) {
    setText(c.rate, number(Math.max(0, st.appended - before.appended) / dt, 1));
    const ok = st.objects - before.objects;
    const failed = st.failedAttempts - before.failedAttempts;
    if (st.failing) row.state.success = 'failing';
    else if (ok + failed > 0) row.state.success = `${number((100 * ok) / (ok + failed), 1)} %`;
    else if (!row.state.success || row.state.success === 'failing') row.state.success = '—';
  } else if (!before) {
    setText(c.rate, '…');
    row.state.success = st.failing ? 'failing' : '—';
  }
  if (row.state.successShown !== row.state.success) {
    row.state.successShown = row.state.success;
    fill(c.success, row.state.success === 'failing' ? badge('failing', 'bad') : row.state.success);
  }
  setText(c.freshness, st.bufferedRecords > 0 ? seconds(st.freshness) : '0 s');
  setText(c.waiting, `${bytes(st.logBytes)} · ${number(st.bufferedRecords)} rec`);
  const e = st.lastError;
  const sig = e ? `${e.time}|${e.code}` : '';
  if (row.state.error !== sig) {
    row.state.error = sig;
    if (!e) fill(c.error, h('span', { class: 'muted' }, 'none'));
    else {
      const href = e.type ? `${base}${path`/streams/${st.name}`}?tab=errors&key=${encodeURIComponent(e.key)}`
        : `${base}${path`/streams/${st.name}`}?tab=configuration`;
      fill(c.error, h('a', { href, class: 'last-error' }, h('strong', {}, e.type ? `${e.type}: ${e.code}` : e.code)),
        ' ', h('span', {}, clip(e.message, 140)), ' ', h('span', { class: 'muted small', dataset: { time: e.time } }, ago(e.time)));
    }
  }
  const agoEl = c.error.querySelector('[data-time]');
  if (agoEl) setText(agoEl, ago(agoEl.dataset.time));
}

function clip(s, n) {
  return s && s.length > n ? `${s.slice(0, n)}…` : s || '';
}
