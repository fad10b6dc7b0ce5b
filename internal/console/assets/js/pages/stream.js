// A delivery stream's page: configuration (readable, raw JSON one click
// away), graphs, delivered objects with previews, the error output with
// each failed record decoded, its logs, and "flush now".

import { api, base, path } from '../api.js';
import { app } from '../app.js';
import { h, fill, bytes, number, seconds, when, ago, badge, stateKind, table, tabs, errorBox } from '../dom.js';
import { renderPreview, graphsView, cloudWatchLog } from '../views.js';

export async function render(main, [name], params) {
  const st = await api(path`/streams/${name}`);
  const facts = h('dl', { class: 'facts' });
  const flushStatus = h('p', { class: 'small', role: 'status', 'aria-live': 'polite' });
  const flushBtn = h('button', { type: 'button', class: 'primary', id: 'flush', onclick: flush }, 'Flush now');
  const panel = h('div', { id: 'tabpanel', role: 'tabpanel' });
  const items = [{ id: 'configuration', label: 'Configuration' }];
  if (app.features.metrics) items.push({ id: 'graphs', label: 'Graphs' });
  items.push({ id: 'objects', label: 'Objects' }, { id: 'errors', label: 'Error output' });
  if (app.features.logs) items.push({ id: 'logs', label: 'Logs' });
  let tab = items.some((t) => t.id === params.get('tab')) ? params.get('tab') : 'configuration';
  let destroy = null;
  let refreshObjects = null;

  const tablist = tabs('Stream sections', items, tab, (id) => {
    tab = id;
    const q = new URLSearchParams(location.search);
    q.set('tab', id);
    if (id !== 'errors') q.delete('key');
    if (id !== 'objects') {
      q.delete('prefix');
      q.delete('view');
    }
    history.replaceState(null, '', `${location.pathname}?${q}`);
    show();
  });

  fill(main,
    h('div', { class: 'head' }, h('h1', {}, name), badge(st.status, stateKind(st.status)),
      h('div', { class: 'actions' }, flushBtn)),
    h('p', { class: 'muted small mono' }, st.arn),
    facts, flushStatus, tablist.el, panel);
  showFacts(facts, st.stats);

  function show() {
    if (destroy) destroy();
    destroy = null;
    refreshObjects = null;
    panel.setAttribute('aria-labelledby', `tab-${tab}`);
    switch (tab) {
      case 'configuration': fill(panel, configuration(st)); break;
      case 'graphs': {
        const v = graphsView((range) => api(`${path`/streams/${name}/graphs`}?range=${range}`), 'Stream graphs');
        fill(panel, v.el);
        destroy = v.destroy;
        break;
      }
      case 'objects': refreshObjects = objects(panel, st, params); break;
      case 'errors': refreshObjects = errorsTab(panel, st, params); break;
      case 'logs': {
        if (!st.logGroup) {
          fill(panel, h('p', { class: 'notice' }, 'Delivery error logging is off for this stream: set CloudWatchLoggingOptions on its destination to log delivery errors to CloudWatch Logs.'));
        } else {
          const v = cloudWatchLog(`Log of ${st.logGroup}`, st.logGroup, st.logStream);
          fill(panel, h('p', { class: 'muted small' }, `Log group ${st.logGroup}`, st.logStream ? `, stream ${st.logStream}` : ''), v.el);
          destroy = v.destroy;
        }
        break;
      }
    }
  }

  async function flush() {
    flushBtn.disabled = true;
    fill(flushStatus, 'Flushing: delivering what the stream holds now…');
    try {
      const res = await api(`${path`/streams/${name}/flush`}?wait=30s`, { method: 'POST' });
      fill(flushStatus, res.flushed ? `Flushed: everything buffered before the request is delivered (through sequence ${number(res.delivered)}).`
        : 'Flush requested: delivery is still running; the objects will appear shortly.');
      showFacts(facts, res);
      if (refreshObjects) await refreshObjects();
    } catch (e) {
      fill(flushStatus, errorBox(e));
    } finally {
      flushBtn.disabled = false;
    }
  }

  show();
  return () => {
    if (destroy) destroy();
  };
}

function showFacts(el, s) {
  const d = s.delivery || {};
  const last = d.lastRecordError && (!d.lastError || d.lastRecordError.time > d.lastError.time) ? d.lastRecordError : d.lastError;
  fill(el,
    fact('Waiting', `${number(s.bufferedRecords)} records · ${bytes(s.bufferedBytes)}`),
    fact('On disk', bytes(s.logBytes)),
    fact('Oldest waiting', s.oldestUndelivered ? ago(s.oldestUndelivered) : '—'),
    fact('Objects delivered', d.objects === undefined ? '—' : number(d.objects)),
    fact('Failed attempts', d.failedAttempts === undefined ? '—' : number(d.failedAttempts)),
    fact('Records to error output', d.errorRecords === undefined ? '—' : number(d.errorRecords)),
    fact('Last delivery', d.lastDelivery ? ago(d.lastDelivery) : '—'),
    last ? fact('Last error', `${last.type ? `${last.type}: ` : ''}${last.code} (${ago(last.time)})`) : null,
    s.lostRecords ? fact('Lost to damage', `${number(s.lostRecords)} records`) : null);
}

function fact(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

function configuration(st) {
  const c = st.config;
  const rows = [
    ['Destination', `Amazon S3 bucket ${c.bucket}`],
    ['Prefix', c.prefix || '(none)'],
    ['Error output prefix', c.errorPrefix],
    ['Compression', c.compression],
    ['File extension', c.extension || '(none)'],
    ['Buffering', `${bytes(c.bufferBytes)} or ${seconds(c.bufferSeconds)}, whichever comes first`],
    ['Time zone', c.timeZone],
    ['Processors', c.processors.length === 0 ? 'none' : h('ol', {}, c.processors.map((p) => h('li', {}, h('strong', {}, p.type),
      p.params && p.params.length ? h('ul', {}, p.params.map(([k, v]) => h('li', {}, `${k}: `, h('code', {}, v)))) : null)))],
    ['Format conversion', c.conversion ? `JSON (${c.conversion.deserializer}) to Parquet (${c.conversion.compression}) with Glue table ${c.conversion.database}.${c.conversion.table}, version ${c.conversion.version}` : 'off'],
    ['Dynamic partitioning', c.partitioning ? `on, retries for ${seconds(c.partitioning.retrySeconds)}` : 'off'],
    ['S3 backup', c.backup ? `bucket ${c.backup.bucket}, prefix ${c.backup.prefix || '(none)'}, ${c.backup.compression}` : 'off'],
    ['Error logging', c.logging.enabled ? `CloudWatch Logs ${c.logging.group || ''} ${c.logging.stream || ''}` : 'off'],
    ['Role', c.roleArn || '(none)'],
    ['Version', String(st.versionId)],
  ];
  return h('div', {},
    h('div', { class: 'panel' }, h('dl', { class: 'config' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('details', { class: 'panel' }, h('summary', {}, 'Raw JSON (DescribeDeliveryStream)'),
      h('pre', { class: 'raw', tabindex: 0 }, JSON.stringify(st.raw, null, 2))));
}

/**
 * The objects tab: the newest objects under the stream's prefix, or a
 * tree to browse; either with a preview of the chosen object.
 */
function objects(panel, st, params) {
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Prefix' });
  const list = h('div', { id: 'object-list' });
  const preview = h('div', { class: 'panel', id: 'preview', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Choose an object to preview its first records.'));
  let view = params.get('view') === 'browse' ? 'browse' : 'newest';
  let prefix = params.has('prefix') ? params.get('prefix') : st.browse.data;
  const name = `objview-${Math.random().toString(36).slice(2)}`;
  const toggle = h('fieldset', {}, h('legend', { class: 'sr' }, 'Objects view'), h('div', { class: 'segmented' },
    [['newest', 'Newest'], ['browse', 'Browse']].map(([v, t]) => h('label', {},
      h('input', { type: 'radio', name, value: v, checked: v === view, onchange: () => { view = v; load(); } }), h('span', {}, t)))));
  fill(panel, h('div', { class: 'cols' }, h('div', {}, h('div', { class: 'row' }, toggle, crumbs), list), preview));

  function remember() {
    const q = new URLSearchParams(location.search);
    q.set('view', view);
    if (view === 'browse') q.set('prefix', prefix);
    else q.delete('prefix');
    history.replaceState(null, '', `${location.pathname}?${q}`);
  }

  async function load(p = prefix) {
    prefix = p;
    remember();
    const parts = p.split('/').filter(Boolean);
    if (view === 'browse') {
      fill(crumbs, h('button', { type: 'button', class: 'link', onclick: () => load('') }, st.browse.bucket), '/',
        parts.map((part, i) => [h('button', { type: 'button', class: 'link', onclick: () => load(`${parts.slice(0, i + 1).join('/')}/`) }, part), '/']));
    } else {
      fill(crumbs, h('span', { class: 'muted' }, `${st.browse.bucket}/${st.browse.data}`));
    }
    let res;
    try {
      const q = view === 'browse' ? `prefix=${encodeURIComponent(p)}` : 'kind=newest';
      res = await api(`${path`/streams/${st.name}/objects`}?${q}`);
    } catch (e) {
      fill(list, errorBox(e));
      return;
    }
    if (res.noBucket) {
      fill(list, h('p', { class: 'notice' }, `Bucket ${res.bucket} does not exist yet: nothing has been delivered.`));
      return;
    }
    const base = view === 'browse' ? p : st.browse.data;
    const rows = [
      ...res.folders.map((f) => h('tr', {}, h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => load(f) }, `${f.slice(p.length)}`)),
        h('td', { class: 'num muted' }, 'folder'), h('td', {}))),
      ...res.objects.map((o) => h('tr', { dataset: { key: o.key } },
        h('td', { class: 'wrap' }, h('button', { type: 'button', class: 'link object', onclick: (e) => open(o.key, e.target.closest('tr')) }, o.key.slice(base.length))),
        h('td', { class: 'num' }, bytes(o.size)), h('td', {}, when(o.modified)))),
    ];
    if (rows.length === 0) rows.push(h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'No objects here yet.')));
    fill(list, table(view === 'browse' ? `Objects under ${p || 'the bucket root'}` : 'Newest objects', ['Name', h('th', { scope: 'col', class: 'num' }, 'Size'), 'Last modified'], rows, 'objects'),
      res.truncated ? h('p', { class: 'muted small' }, `Showing the first ${number(res.folders.length + res.objects.length)} entries.`) : null);
  }

  async function open(key, tr) {
    for (const r of list.querySelectorAll('tr.selected')) r.classList.remove('selected');
    if (tr) tr.classList.add('selected');
    fill(preview, h('p', { class: 'muted' }, 'Loading…'));
    try {
      renderPreview(preview, await api(`${path`/streams/${st.name}/object`}?key=${encodeURIComponent(key)}`));
    } catch (e) {
      fill(preview, errorBox(e));
    }
  }

  load(prefix);
  return () => load(prefix);
}

/** The error output tab: the newest error objects, each record decoded. */
function errorsTab(panel, st, params) {
  const list = h('div');
  const detail = h('div', { class: 'panel', id: 'error-records', 'aria-live': 'polite' });
  const where = Object.entries(st.browse.errors).map(([t, p]) => `${t} → ${p || '(bucket root)'}`).join(' · ');
  fill(panel, h('p', { class: 'muted small' }, `Error output of bucket ${st.browse.bucket}: ${where}`), list, detail);
  let selected = params.get('key') || '';

  async function load() {
    let res;
    try {
      res = await api(`${path`/streams/${st.name}/objects`}?kind=errors`);
    } catch (e) {
      fill(list, errorBox(e));
      return;
    }
    if (res.noBucket || res.objects.length === 0) {
      fill(list, h('p', { class: 'notice' }, 'No records have gone to the error output.'));
      fill(detail);
      return;
    }
    if (!selected || !res.objects.some((o) => o.key === selected)) selected = res.objects[0].key;
    fill(list, table('Error output objects', ['Written', 'Type', 'Object', h('th', { scope: 'col', class: 'num' }, 'Size')],
      res.objects.map((o) => h('tr', { class: o.key === selected ? 'selected' : null, dataset: { key: o.key } },
        h('td', {}, when(o.modified)), h('td', {}, o.type || 'error output'),
        h('td', { class: 'wrap' }, h('button', { type: 'button', class: 'link', onclick: () => { selected = o.key; load(); } }, o.key)),
        h('td', { class: 'num' }, bytes(o.size)))), 'cards'));
    try {
      renderPreview(detail, await api(`${path`/streams/${st.name}/object`}?key=${encodeURIComponent(selected)}`));
    } catch (e) {
      fill(detail, errorBox(e));
    }
  }
  load();
  return load;
}
