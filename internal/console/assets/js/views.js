// Views several pages share: object previews, metric graphs over a chosen
// range, and logs with a live tail.

import { api } from './api.js';
import { h, fill, bytes, number, when, time, pretty, errorBox, poll } from './dom.js';

/** Renders a preview (GET /api/streams/{name}/object) into el. */
export function renderPreview(el, p) {
  const meta = h('p', { class: 'muted small' }, `${p.bucket}/${p.key} · `, p.size >= 0 ? bytes(p.size) : 'size unknown',
    p.compression && p.compression !== 'UNCOMPRESSED' ? ` · ${p.compression}, decompressed` : '',
    p.modified ? ` · ${when(p.modified)}` : '');
  let body;
  switch (p.format) {
    case 'errors':
      body = h('div', { class: 'errors' }, p.errors.map((e, i) => errorRecord(e, i)));
      break;
    case 'parquet':
      body = h('div', { class: 'table-wrap results', role: 'region', 'aria-label': 'Parquet rows', tabindex: 0 },
        h('table', {}, h('thead', {}, h('tr', {}, p.columns.map((c) => h('th', { scope: 'col' }, c.name, h('div', { class: 'muted small' }, c.type))))),
          h('tbody', {}, (p.rows || []).map((r) => h('tr', {}, r.map((v) => cell(v)))))));
      break;
    case 'records':
      body = h('ol', { class: 'records', 'aria-label': 'First records' }, (p.records || []).map((r) => h('li', {}, h('pre', {}, r))));
      break;
    default:
      body = h('pre', { class: 'raw', 'aria-label': 'Start of the object in hex' }, p.text || '');
  }
  const count = p.format === 'parquet' ? `${number(p.rows ? p.rows.length : 0)} of ${number(p.totalRows)} rows`
    : p.format === 'errors' ? `${plural(p.errors.length, 'failed record')}${p.truncated ? ' (the first)' : ''}`
      : p.format === 'records' ? `${plural((p.records || []).length, 'record')}${p.truncated ? ' (the first)' : ''}` : 'binary';
  fill(el, h('h3', {}, p.format === 'errors' ? 'Failed records' : 'Preview', ' ', h('span', { class: 'muted small' }, count)), meta, body);
}

function plural(n, word) {
  return `${number(n)} ${word}${n === 1 ? '' : 's'}`;
}

function cell(v) {
  if (v === null || v === undefined) return h('td', { class: 'null' }, 'null');
  return h('td', {}, typeof v === 'object' ? JSON.stringify(v) : String(v));
}

/** One failed record of the error output, its rawData decoded. */
function errorRecord(e, i) {
  const raw = e.rawData !== undefined && e.rawData !== null
    ? h('pre', { class: 'raw rawdata', 'aria-label': `Decoded rawData of record ${i + 1}` }, pretty(e.rawData))
    : h('div', {}, h('p', { class: 'muted small' }, 'rawData is not text; base64:'), h('pre', { class: 'raw rawdata' }, e.rawBase64));
  return h('article', { class: 'error-record', 'aria-label': `Failed record ${i + 1}` },
    h('h4', {}, e.errorCode),
    h('p', {}, e.errorMessage),
    h('p', { class: 'muted small' }, `arrived ${when(e.arrivalTimestamp)} · ${e.attemptsMade} attempt${e.attemptsMade === 1 ? '' : 's'} · ${bytes(e.rawSize)}`,
      e.lambdaArn ? ` · ${e.lambdaArn}` : '', e.sequenceNumber ? ` · sequence ${e.sequenceNumber}` : ''),
    h('h5', { class: 'muted small' }, 'rawData (decoded)'), raw);
}

/**
 * Graphs over a chosen range: a range control and a grid of charts drawn
 * from load(range) (GET .../graphs?range=). Returns {el, destroy}.
 */
export function graphsView(load, label) {
  const ranges = [['1h', '1 hour'], ['24h', '24 hours'], ['7d', '7 days']];
  const grid = h('div', { class: 'grid' });
  const status = h('p', { class: 'muted small', role: 'status' });
  const name = `range-${Math.random().toString(36).slice(2)}`;
  const control = h('fieldset', { class: 'segmented-wrap' }, h('legend', {}, 'Time range'),
    h('div', { class: 'segmented' }, ranges.map(([v, text], i) => h('label', {},
      h('input', { type: 'radio', name, value: v, checked: i === 0, onchange: () => draw(v) }), h('span', {}, text)))));
  let charts = [];
  let current = '1h';
  async function draw(range) {
    current = range;
    let g;
    try {
      g = await load(range);
    } catch (e) {
      fill(grid, errorBox(e));
      return;
    }
    const { timeChart, chartPanel } = await import('./chart.js');
    for (const c of charts) c.destroy();
    charts = [];
    fill(grid);
    const n = g.charts.reduce((k, c) => k + c.lines.reduce((m, l) => m + l.values.filter((v) => v !== null).length, 0), 0);
    fill(status, n === 0 ? 'No datapoints in this range yet.' : `${number(n)} datapoints, one every ${g.period >= 3600 ? `${g.period / 3600} h` : `${g.period / 60} min`}.`);
    for (const c of g.charts) {
      const p = chartPanel(c.title, (el) => timeChart(el, { x: g.x, lines: c.lines, unit: c.unit, threshold: c.threshold }));
      grid.append(p.el);
      charts.push(p.draw());
    }
  }
  const el = h('section', { 'aria-label': label }, h('div', { class: 'row spread' }, control, status), grid);
  draw(current);
  const stop = poll(() => draw(current), 60000);
  return { el, destroy() { stop(); for (const c of charts) c.destroy(); } };
}

/**
 * A log with a live tail. fetchPage(cursor) returns {events, cursor}:
 * events oldest first, each {timestamp, message}; cursor is passed back
 * next time. Returns {el, destroy}.
 */
export function logView(label, fetchPage, opts = {}) {
  const box = h('div', { class: 'log', role: 'log', 'aria-label': label, 'aria-live': 'polite', tabindex: 0 });
  const tailId = `tail-${Math.random().toString(36).slice(2)}`;
  const tail = h('input', { type: 'checkbox', id: tailId, checked: true });
  const status = h('span', { class: 'muted small', role: 'status' });
  let filter = null;
  let cursor = null;
  let count = 0;
  const max = 2000;
  async function more() {
    let page;
    try {
      page = await fetchPage(cursor, filter ? filter.value : '');
    } catch (e) {
      fill(status, e.message);
      return;
    }
    cursor = page.cursor;
    const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    for (const ev of page.events) {
      box.append(h('div', {}, time(ev.timestamp), ev.message));
      count++;
    }
    while (count > max) {
      box.firstChild.remove();
      count--;
    }
    if (count === 0 && !box.firstChild) box.append(h('div', { class: 'empty-log' }, 'No log events yet.'));
    else box.querySelector('.empty-log')?.remove();
    if (stick) box.scrollTop = box.scrollHeight;
    fill(status, `${plural(count, 'line')} · ${tail.checked ? 'following' : 'paused'}`);
  }
  const controls = [h('label', { for: tailId, class: 'row' }, tail, 'Live tail')];
  if (opts.filter) {
    const fid = `filter-${Math.random().toString(36).slice(2)}`;
    filter = h('input', { id: fid, type: 'search', placeholder: 'filter pattern', spellcheck: 'false' });
    const apply = () => {
      cursor = null;
      count = 0;
      fill(box);
      more();
    };
    filter.addEventListener('change', apply);
    controls.unshift(h('div', { class: 'row' }, h('label', { for: fid }, 'Filter'), filter));
  }
  const el = h('section', { 'aria-label': label }, h('div', { class: 'row spread' }, h('div', { class: 'row' }, controls), status), box);
  more();
  const stop = poll(async () => {
    if (tail.checked) await more();
  }, 2000);
  tail.addEventListener('change', () => fill(status, `${plural(count, 'line')} · ${tail.checked ? 'following' : 'paused'}`));
  return { el, destroy: stop };
}

/**
 * A CloudWatch Logs group as a logView (GET /api/logs, FilterLogEvents):
 * the last hour first, then what follows; a page that has more is
 * continued with its token before the start moves on to the newest event
 * (whose events, already shown, are dropped by eventId).
 */
export function cloudWatchLog(label, group, stream) {
  return logView(label, async (cursor, filter) => {
    const c = cursor && cursor.filter === filter ? cursor : { start: Date.now() - 3600 * 1000, seen: [], next: '', filter };
    const q = new URLSearchParams({ group, start: String(c.start) });
    if (stream) q.set('stream', stream);
    if (filter) q.set('filter', filter);
    if (c.next) q.set('next', c.next);
    const page = await api(`/logs?${q}`);
    const seen = new Set(c.seen);
    const events = page.events.filter((e) => !seen.has(e.eventId));
    const out = { start: c.start, seen: c.seen, next: page.next || '', filter };
    if (events.length > 0) {
      const last = events[events.length - 1].timestamp;
      const atLast = events.filter((e) => e.timestamp === last).map((e) => e.eventId);
      out.seen = last === c.start ? [...new Set([...c.seen, ...atLast])] : atLast;
      if (!page.next) out.start = last;
    }
    return { events, cursor: out };
  }, { filter: true });
}
