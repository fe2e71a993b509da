// The playground: compose a request, stream its answer into the page as text, show its usage and timings, and keep
// the pipeline panel running. Model output is only ever set as text (textContent, Text nodes), never as HTML.
import { ApiError, apiKey, getJson, setApiKey, stream } from './api.js';
import { startPanel } from './panel.js';

const $ = (id) => document.getElementById(id);
const form = $('request');
let running = null;
let lastChatAnswer = null;
let tasks = [];

function setState(state, message) {
  form.dataset.state = state;
  $('state').textContent = message;
}

function showError(error) {
  const box = $('error');
  box.textContent = error instanceof ApiError && error.code ? `${error.message} (${error.code})` : error.message;
  box.hidden = false;
}

function askForKey(message) {
  $('key-form').hidden = false;
  if (message) {
    $('served').textContent = message;
  }
}

// ----- the API key ---------------------------------------------------------------------------------------------------

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setApiKey($('api-key').value.trim());
  $('api-key').value = '';
  loadModels();
});
$('forget-key').addEventListener('click', () => {
  setApiKey('');
  askForKey('Key forgotten.');
});

async function loadModels() {
  try {
    const models = await getJson('/v1/models');
    const select = $('model');
    select.replaceChildren(...models.data.map((m) => new Option(m.id, m.id)));
    $('served').textContent = `serving ${models.data.map((m) => m.id).join(', ')}`;
    $('key-form').hidden = !apiKey();
    loadTasks();
  } catch (e) {
    if (e.status === 401) {
      askForKey(apiKey() ? `That key was refused: ${e.message}` : 'Access control is on: enter an API key.');
    } else {
      $('served').textContent = `The API did not answer: ${e.message}`;
    }
  }
}

// ----- the inputs: a prompt, a chat, or a task -----------------------------------------------------------------------

function mode() {
  return form.elements.mode.value;
}

for (const radio of form.elements.mode) {
  radio.addEventListener('change', () => {
    $('prompt-input').hidden = mode() !== 'prompt';
    $('chat-input').hidden = mode() !== 'chat';
    $('task-input').hidden = mode() !== 'task';
  });
}

function addMessage(role, content) {
  const row = document.createElement('div');
  row.className = 'message';
  const select = document.createElement('select');
  for (const r of ['system', 'user', 'assistant']) {
    select.append(new Option(r, r, false, r === role));
  }
  const area = document.createElement('textarea');
  area.rows = 2;
  area.value = content;
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.textContent = '×';
  remove.title = 'Remove this message';
  remove.addEventListener('click', () => row.remove());
  row.append(select, area, remove);
  $('messages').append(row);
  return area;
}

addMessage('user', 'What may I do with copies of the Program?');
$('add-message').addEventListener('click', () => addMessage('user', '').focus());
$('continue-chat').addEventListener('click', () => {
  if (lastChatAnswer !== null) {
    addMessage('assistant', lastChatAnswer);
    addMessage('user', '').focus();
    lastChatAnswer = null;
    $('continue-chat').disabled = true;
  }
});

/** Tasks come from GET /v1/tasks when the gateway has that endpoint; without it the Task input stays hidden. */
async function loadTasks() {
  try {
    const list = await getJson('/v1/tasks');
    tasks = Array.isArray(list.data) ? list.data : [];
  } catch {
    tasks = [];
  }
  $('task-mode').hidden = tasks.length === 0;
  $('task').replaceChildren(...tasks.map((t) => new Option(t.id, t.id)));
  showTaskFields();
}

/** GET /v1/tasks names each task's required and optional fields. */
function taskFields(task) {
  return [...(task?.required ?? []).map((name) => ({ name })),
    ...(task?.optional ?? []).map((name) => ({ name, description: 'optional' }))];
}

function showTaskFields() {
  const task = tasks.find((t) => t.id === $('task').value);
  $('task-description').textContent = task?.description ?? '';
  $('task-fields').replaceChildren(...taskFields(task).map((f) => {
    const label = document.createElement('label');
    label.textContent = f.description ? `${f.name}: ${f.description}` : f.name;
    const area = document.createElement('textarea');
    area.rows = 8;
    area.dataset.field = f.name;
    label.append(area);
    return label;
  }));
}
$('task').addEventListener('change', showTaskFields);

// ----- the request ---------------------------------------------------------------------------------------------------

/** A setting as typed: a number when it reads as one, else the text itself, so the API's own check answers it. */
function setting(id) {
  const raw = $(id).value.trim();
  if (raw === '') {
    return undefined;
  }
  const n = Number(raw);
  return Number.isNaN(n) ? raw : n;
}

function request() {
  const body = { stream: true, stream_options: { include_usage: true } };
  if ($('model').value) {
    body.model = $('model').value;
  }
  for (const id of ['max_tokens', 'temperature', 'top_p', 'seed']) {
    const value = setting(id);
    if (value !== undefined) {
      body[id] = value;
    }
  }
  const stop = $('stop').value.split('\n').filter((s) => s !== '').map((s) => s.replaceAll('\\n', '\n'));
  if (stop.length > 0) {
    body.stop = stop;
  }
  if (mode() === 'chat') {
    body.messages = [...$('messages').querySelectorAll('.message')].map((row) => ({
      role: row.querySelector('select').value, content: row.querySelector('textarea').value,
    }));
    return { path: '/v1/chat/completions', body };
  }
  if (mode() === 'task') {
    body.task = $('task').value;
    // An optional field left empty is left out; a required one is sent as typed, so the API says what is missing.
    const optional = new Set(tasks.find((t) => t.id === body.task)?.optional ?? []);
    body.task_fields = Object.fromEntries([...$('task-fields').querySelectorAll('textarea')]
      .filter((area) => area.value !== '' || !optional.has(area.dataset.field))
      .map((area) => [area.dataset.field, area.value]));
    return { path: '/v1/completions', body };
  }
  body.prompt = $('prompt').value;
  return { path: '/v1/completions', body };
}

function ms(value) {
  return value === null || value === undefined ? '–' : `${Math.round(value)} ms`;
}

function resetAnswer() {
  $('output').textContent = '';
  $('error').hidden = true;
  $('error').textContent = '';
  for (const id of ['stat-finish', 'stat-usage', 'stat-queue', 'stat-ttft', 'stat-rate', 'stat-job']) {
    $(id).textContent = '–';
  }
}

/** The job's own record: its status, and the worker's timings once its completion is in (shortly after [DONE]). */
async function jobRecord(id) {
  for (let i = 0; i < 40; i++) {
    try {
      const job = await getJson(`/v1/jobs/${encodeURIComponent(id)}`);
      if (job.status !== 'queued') {
        return job;
      }
    } catch (e) {
      if (e.status !== 404) {
        return null;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

async function generate() {
  const { path, body } = request();
  resetAnswer();
  const controller = new AbortController();
  running = controller;
  $('generate').disabled = true;
  $('stop-button').disabled = false;
  $('continue-chat').disabled = true;
  setState('waiting', 'waiting for the first token…');
  const output = $('output');
  const started = performance.now();
  let first = null;
  let last = null;
  let pieces = 0;
  let id = null;
  let usage = null;
  let finish = null;
  try {
    await stream(path, body, {
      signal: controller.signal,
      onChunk: (chunk) => {
        if (id === null) {
          id = chunk.id;
          $('stat-job').textContent = id;
        }
        if (chunk.usage) {
          usage = chunk.usage;
        }
        for (const choice of chunk.choices ?? []) {
          const piece = choice.text ?? choice.delta?.content ?? '';
          if (piece !== '') {
            const now = performance.now();
            if (first === null) {
              first = now;
              setState('streaming', 'streaming…');
              $('stat-ttft').textContent = ms(first - started);
            }
            last = now;
            pieces++;
            output.append(document.createTextNode(piece));
          }
          if (choice.finish_reason) {
            finish = choice.finish_reason;
          }
        }
      },
    });
    $('stat-finish').textContent = finish ?? '–';
    if (usage) {
      $('stat-usage').textContent = `${usage.prompt_tokens} / ${usage.completion_tokens}`;
    }
    // Over the whole request, from sending it to the last token: pieces can arrive in bursts (several steps' events
    // in one network read), which would make a rate from the first token to the last meaningless for fast models.
    const tokens = usage ? usage.completion_tokens : pieces;
    if (first !== null && last > started && tokens > 0) {
      $('stat-rate').textContent = (tokens / ((last - started) / 1000)).toFixed(1);
    }
    if (mode() === 'chat') {
      lastChatAnswer = output.textContent;
      $('continue-chat').disabled = false;
    }
    setState('done', 'done');
    const job = id && await jobRecord(id);
    if (job?.timings) {
      $('stat-queue').textContent = ms(job.timings.queue_ms);
    }
  } catch (e) {
    if (e.name === 'AbortError') {
      setState('stopped', 'stopped: the job is cancelled');
      const job = id && await jobRecord(id);
      if (job) {
        $('stat-finish').textContent = job.status;
      }
    } else {
      showError(e);
      setState('error', 'failed');
      if (e.status === 401) {
        askForKey('The API wants a key.');
      }
    }
  } finally {
    running = null;
    $('generate').disabled = false;
    $('stop-button').disabled = true;
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (!running) {
    generate();
  }
});
$('stop-button').addEventListener('click', () => running?.abort());

setState('idle', '');
loadModels();
startPanel({ onUnauthorized: () => askForKey() });
