// Charts, drawn by uPlot (vendor/uplot): lines over time (metrics, query
// results over a time column) and bars by category.

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h, bytes, number, seconds } from './dom.js';

// Colours distinguishable with common colour-blindness, dark enough on
// white.
const palette = ['#0b5cad', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207'];

/** Formats an axis or legend value in a unit. */
export function fmt(v, unit) {
  if (v === null || v === undefined) return '—';
  switch (unit) {
    case 'Bytes': return bytes(v);
    case 'Seconds': return seconds(v);
    case 'Milliseconds': return v >= 1000 ? seconds(v / 1000) : `${number(v, 1)} ms`;
    case 'Ratio': return `${number(v * 100, 1)} %`;
    default: return Math.abs(v) >= 1e6 ? `${number(v / 1e6, 1)} M` : Math.abs(v) >= 1e4 ? `${number(v / 1e3, 1)} k` : number(v, 2);
  }
}

const axis = { stroke: '#4a5566', grid: { stroke: '#e3e8ef', width: 1 }, ticks: { stroke: '#c5ccd6', width: 1 } };

/** Keeps a plot as wide as its container. */
function fit(container, u, height) {
  const ro = new ResizeObserver(() => {
    const w = Math.max(200, container.clientWidth);
    if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
  });
  ro.observe(container);
  return ro;
}

/**
 * A chart of lines over time into container.
 * @param {HTMLElement} container
 * @param {{x: number[], lines: {label: string, values: (number|null)[]}[], unit?: string,
 *          threshold?: number|null, height?: number, title?: string}} spec x in epoch seconds
 * @returns {{destroy: () => void, plot: uPlot}}
 */
export function timeChart(container, spec) {
  const height = spec.height || 200;
  const data = [spec.x, ...spec.lines.map((l) => l.values)];
  // Lines join the datapoints a metric has, as CloudWatch's graphs do;
  // a sparse line shows its points too, or a lone one would not show.
  const series = [{}, ...spec.lines.map((l, i) => ({
    label: l.label, stroke: palette[i % palette.length], width: 2, spanGaps: true,
    points: { show: l.values.filter((v) => v !== null).length <= 60, size: 5 }, value: (u, v) => fmt(v, spec.unit),
  }))];
  if (spec.threshold !== null && spec.threshold !== undefined) {
    data.push(spec.x.map(() => spec.threshold));
    series.push({ label: 'threshold', stroke: '#a1161f', dash: [6, 4], width: 1.5, points: { show: false }, value: () => fmt(spec.threshold, spec.unit) });
  }
  const opts = {
    title: spec.title, width: Math.max(200, container.clientWidth || 400), height, series,
    scales: { x: { time: true }, y: { range: (u, lo, hi) => rangeWithZero(lo, hi, spec.threshold) } },
    axes: [{ ...axis, space: 90 }, { ...axis, size: 64, values: (u, vals) => vals.map((v) => fmt(v, spec.unit)) }],
    legend: { live: true },
  };
  const u = new uPlot(opts, data, container);
  const ro = fit(container, u, height);
  return { plot: u, destroy() { ro.disconnect(); u.destroy(); } };
}

/** A y range from zero (or below, for negative values) past the data. */
function rangeWithZero(lo, hi, threshold) {
  let min = Math.min(0, lo ?? 0);
  let max = Math.max(hi ?? 1, threshold ?? -Infinity);
  if (threshold !== null && threshold !== undefined) min = Math.min(min, threshold);
  if (max === min) max = min + 1;
  return [min, max + (max - min) * 0.08];
}

/**
 * Bars by category (or lines, kind 'line') into container.
 * @param {{categories: string[], lines: {label: string, values: (number|null)[]}[], kind?: string, height?: number}} spec
 */
export function categoryChart(container, spec) {
  const height = spec.height || 240;
  const n = spec.lines.length;
  const x = spec.categories.map((_, i) => i);
  const bars = uPlot.paths.bars;
  const series = [{ label: 'category', value: (u, i) => (i === null ? '—' : spec.categories[i]) },
    ...spec.lines.map((l, i) => ({
      label: l.label, stroke: palette[i % palette.length], fill: `${palette[i % palette.length]}${n > 2 ? '99' : 'cc'}`, width: 1,
      paths: spec.kind === 'line' ? undefined : bars({ size: [n === 1 ? 0.7 : 0.4, 80], align: n === 2 ? (i === 0 ? -1 : 1) : 0 }),
      points: { show: spec.kind === 'line' }, value: (u, v) => fmt(v),
    }))];
  const opts = {
    width: Math.max(200, container.clientWidth || 400), height, series,
    scales: { x: { time: false, range: (u, lo, hi) => [lo - 0.5, hi + 0.5] }, y: { range: (u, lo, hi) => rangeWithZero(lo, hi, null) } },
    axes: [{ ...axis, values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? spec.categories[v] ?? '' : '')), splits: () => x, rotate: 0 },
      { ...axis, size: 64, values: (u, vals) => vals.map((v) => fmt(v)) }],
    legend: { live: true },
  };
  const u = new uPlot(opts, [x, ...spec.lines.map((l) => l.values)], container);
  const ro = fit(container, u, height);
  return { plot: u, destroy() { ro.disconnect(); u.destroy(); } };
}

/** A titled chart panel; draw(plotEl) returns the chart. */
export function chartPanel(title, draw, note) {
  const plot = h('div', { class: 'plot' });
  const el = h('figure', { class: 'panel chart', 'aria-label': title }, h('h3', {}, title), plot, note ? h('p', { class: 'muted small' }, note) : null);
  return { el, draw: () => draw(plot) };
}

// Query results as chart data.

/** Reads a cell as a time (epoch seconds), or NaN. */
export function cellTime(s) {
  if (s === null || s === undefined) return NaN;
  let t = s.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) t += 'T00:00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t = `${t.replace(' ', 'T')}Z`;
  else if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(t)) t = t.replace(' ', 'T').replace(/ (UTC|Z)$/, 'Z');
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

export function cellNumber(s) {
  if (s === null || s === undefined || s === '') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

const timeTypes = /^(timestamp|date|time)/i;
const numberTypes = /^(tinyint|smallint|integer|int|bigint|double|float|real|decimal)/i;

export function isTimeColumn(col) { return timeTypes.test(col.type || ''); }
export function isNumberColumn(col) { return numberTypes.test(col.type || ''); }

/** The chart a result suggests: line over its first time column, else bars by its first text column. */
export function suggest(columns) {
  const numeric = columns.filter(isNumberColumn).map((c) => c.name);
  const timeCol = columns.find(isTimeColumn);
  if (timeCol) return { type: 'line', x: timeCol.name, y: numeric.filter((n) => n !== timeCol.name).slice(0, 3) };
  const cat = columns.find((c) => !isNumberColumn(c)) || columns[0];
  return { type: 'bar', x: cat ? cat.name : '', y: numeric.filter((n) => !cat || n !== cat.name).slice(0, 3) };
}

/**
 * Draws a query result as spec {type, x, y[]} into container.
 * @returns {{destroy: () => void}}
 */
export function resultChart(container, result, spec, height) {
  const col = (name) => result.columns.findIndex((c) => c.name === name);
  const xi = col(spec.x);
  const yi = (spec.y || []).map(col).filter((i) => i >= 0);
  if (xi < 0 || yi.length === 0) throw new Error('Choose an x column and at least one measure.');
  if (spec.type === 'line') {
    const rows = result.rows.map((r) => [cellTime(r[xi]), r]).filter(([t]) => !Number.isNaN(t)).sort((a, b) => a[0] - b[0]);
    if (rows.length === 0) throw new Error(`Column ${spec.x} holds no times to draw a line over.`);
    return timeChart(container, {
      x: rows.map(([t]) => t), height,
      lines: yi.map((i) => ({ label: result.columns[i].name, values: rows.map(([, r]) => cellNumber(r[i])) })),
    });
  }
  return categoryChart(container, {
    kind: spec.type === 'bar' ? 'bar' : 'line', height,
    categories: result.rows.map((r) => r[xi] ?? 'NULL'),
    lines: yi.map((i) => ({ label: result.columns[i].name, values: result.rows.map((r) => cellNumber(r[i])) })),
  });
}
