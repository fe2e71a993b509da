// The pipeline panel: GET /v1/pipeline every interval (only while the tab is visible), shown as figures, two tables and
// a chart of tokens per second and time to first token. Everything is set as text.
import { getJson } from './api.js';

const $ = (id) => document.getElementById(id);

function text(value, digits = 0) {
  if (value === null || value === undefined) {
    return '–';
  }
  return typeof value === 'number' ? value.toFixed(digits) : String(value);
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement('td');
    td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

function show(p) {
  $('p-wait-tokenizer').textContent = text(p.waiting.tokenizer);
  $('p-wait-worker').textContent = text(p.waiting.worker);
  $('p-in-flight').textContent = text(p.gateway.in_flight);
  $('p-streams').textContent = text(p.gateway.streams_open);
  $('p-dead-letters').textContent = p.services.length ? text(p.dead_letters) : '–';
  $('pipeline-updated').textContent = p.updated ? `at ${new Date(p.updated).toLocaleTimeString()}` : '';
  const workers = p.services.filter((s) => s.worker);
  $('workers').querySelector('tbody').replaceChildren(...workers.map((s) => row([
    new URL(s.url).host, text(s.worker.waiting), text(s.worker.running_requests), text(s.worker.running_sequences),
    text(s.worker.mean_batch, 1)])));
  $('services').querySelector('tbody').replaceChildren(...p.services.map((s) => row([
    s.service ?? '?', s.url, s.up ? 'up' : `down: ${s.error}`, text(s.dead_letters)])));
  const latest = p.history[p.history.length - 1];
  $('p-latest').textContent = latest
    ? `${text(latest.tokens_per_second, 1)} tokens/s, ${text(latest.time_to_first_token_ms)} ms to first token`
    : '–';
  draw(p.history);
}

/** Two lines on one time axis, each scaled to its own maximum: tokens/s (left axis) and TTFT in ms (right). */
function draw(history) {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  const style = getComputedStyle(canvas);
  const color = (name) => style.getPropertyValue(name).trim() || '#888';
  g.clearRect(0, 0, width, height);
  const pad = { left: 44, right: 44, top: 10, bottom: 18 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  g.strokeStyle = color('--grid');
  g.strokeRect(pad.left, pad.top, w, h);
  g.font = '11px system-ui, sans-serif';
  if (history.length < 2) {
    g.fillStyle = color('--muted');
    g.fillText('waiting for readings…', pad.left + 8, pad.top + 16);
    return;
  }
  const t0 = history[0].time;
  const t1 = history[history.length - 1].time;
  const x = (t) => pad.left + (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * w);
  const series = [
    { key: 'tokens_per_second', color: color('--tokens'), axisX: 4, align: 'left' },
    { key: 'time_to_first_token_ms', color: color('--ttft'), axisX: width - 4, align: 'right' },
  ];
  for (const s of series) {
    const values = history.map((p) => p[s.key]).filter((v) => v !== null);
    const max = Math.max(1, ...values);
    const y = (v) => pad.top + h - (v / max) * h;
    g.strokeStyle = s.color;
    g.lineWidth = 1.5;
    g.beginPath();
    let drawing = false;
    for (const p of history) {
      const v = p[s.key];
      if (v === null) {
        drawing = false;
        continue;
      }
      if (drawing) {
        g.lineTo(x(p.time), y(v));
      } else {
        g.moveTo(x(p.time), y(v));
        drawing = true;
      }
    }
    g.stroke();
    g.fillStyle = s.color;
    g.textAlign = s.align;
    g.fillText(max.toFixed(0), s.axisX, pad.top + 10);
    g.fillText('0', s.axisX, pad.top + h);
  }
  g.fillStyle = color('--muted');
  g.textAlign = 'center';
  g.fillText(`last ${Math.round((t1 - t0) / 1000)} s`, pad.left + w / 2, height - 4);
}

/** Polls until the page is closed; `onUnauthorized` is told when the API wants a key. */
export function startPanel({ onUnauthorized }) {
  let interval = 2000;
  const poll = async () => {
    if (document.visibilityState === 'visible') {
      try {
        const p = await getJson('/v1/pipeline');
        interval = Math.max(500, p.interval_ms ?? interval);
        $('pipeline-error').hidden = true;
        show(p);
      } catch (e) {
        if (e.status === 401) {
          onUnauthorized();
        }
        $('pipeline-error').textContent = e.message;
        $('pipeline-error').hidden = false;
      }
    }
    setTimeout(poll, interval);
  };
  poll();
}
