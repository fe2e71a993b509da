// The playground page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core: no browser
// download) against the real pipeline. PlaygroundBrowserTest (deploy/local) starts the pipeline and runs this with
// AIGC_BASE_URL, AIGC_API_KEY, AIGC_WORKER_METRICS_URL and AIGC_SCREENSHOTS (comma-separated PNG paths) set; it
// prints one line per check ("ok - ..." or "not ok - ...") and exits non-zero when any fails.
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { check, runChecks } from './checks.mjs';

const base = process.env.AIGC_BASE_URL;
const key = process.env.AIGC_API_KEY;
const workerMetrics = process.env.AIGC_WORKER_METRICS_URL;
const screenshots = (process.env.AIGC_SCREENSHOTS ?? '').split(',').filter((p) => p !== '');
const WAIT = 60_000;

/** The API, called directly, as the page would call it. */
async function api(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The value of one series in a Prometheus text page (0 when absent). */
async function metric(url, series) {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function until(what, fn, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'] });
const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  // The browser logs every refused fetch as a console error: those are checked by their responses below.
  if (m.type() === 'error' && !/the server responded with a status of 4\d\d/.test(m.text())) {
    problems.push(`console: ${m.text()}`);
  }
});
page.on('response', (r) => {
  const path = new URL(r.url()).pathname;
  if (path === '/' && !r.headers()['content-security-policy']) {
    problems.push('the page came without a Content-Security-Policy');
  }
  // Expected refusals: the key not given yet (401), the invalid setting (400), no tasks endpoint yet (404), a job
  // not yet known to GET /v1/jobs (404). Anything else is a problem.
  const expected = r.status() === 401 || r.status() === 400 || (r.status() === 404
    && (path === '/v1/tasks' || path.startsWith('/v1/jobs/')));
  if (r.status() >= 400 && !expected) {
    problems.push(`${r.status()} for ${r.request().method()} ${path}`);
  }
});

/** Fills the form and generates; resolves when the page says how it ended. */
async function generate(settings, prompt) {
  await page.check('input[name=mode][value=prompt]');
  await page.fill('#prompt', prompt);
  for (const [id, value] of Object.entries(settings)) {
    await page.fill(`#${id}`, String(value));
  }
  await page.click('#generate');
}

const finished = () => page.waitForSelector('#request:is([data-state=done], [data-state=error], [data-state=stopped])',
  { timeout: WAIT });

check('the page asks for the API key and keeps it in this tab only', async () => {
  await page.goto(base + '/');
  await page.waitForSelector('#key-form:not([hidden])', { timeout: WAIT });
  await page.fill('#api-key', key);
  await page.click('#key-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('served').textContent.startsWith('serving'),
    null, { timeout: WAIT });
  assert.match(await page.textContent('#served'), /tiny-llama/);
  const storage = await page.evaluate(() => ({ session: sessionStorage.getItem('aigc.apiKey'),
    local: localStorage.length, cookies: document.cookie }));
  assert.deepEqual(storage, { session: key, local: 0, cookies: '' });
});

check('a prompt streams, piece by piece, the text the API answers, with its usage and timings', async () => {
  const prompt = 'You may make and give copies';
  const settings = { max_tokens: 40, temperature: 0, top_p: '', seed: '', stop: '' };
  const expected = await api('POST', '/v1/completions', { prompt, max_tokens: 40, temperature: 0 });
  assert.equal(expected.status, 200);
  // Counts the pieces as the page adds them: more than one means the text arrived as it was generated.
  await page.evaluate(() => {
    window.pieces = 0;
    new MutationObserver((records) => { window.pieces += records.length; })
      .observe(document.getElementById('output'), { childList: true, characterData: true, subtree: true });
  });
  await generate(settings, prompt);
  await finished();
  assert.equal(await page.getAttribute('#request', 'data-state'), 'done');
  assert.equal(await page.textContent('#output'), expected.body.choices[0].text);
  assert.ok(await page.evaluate(() => window.pieces) > 1, 'the text came in several pieces');
  // Only text: nothing the model wrote became an element.
  assert.equal(await page.evaluate(() => document.getElementById('output').childElementCount), 0);
  assert.equal(await page.textContent('#stat-finish'), expected.body.choices[0].finish_reason);
  const usage = expected.body.usage;
  assert.equal(await page.textContent('#stat-usage'), `${usage.prompt_tokens} / ${usage.completion_tokens}`);
  assert.match(await page.textContent('#stat-ttft'), /^\d+ ms$/);
  assert.match(await page.textContent('#stat-rate'), /^\d+\.\d$/);
  await page.waitForFunction(() => /^\d+ ms$/.test(document.getElementById('stat-queue').textContent), null,
    { timeout: WAIT });
  assert.match(await page.textContent('#stat-job'), /^cmpl-/);
});

check('a chat streams the message the API answers', async () => {
  const content = 'What may I do with copies of the Program?';
  const expected = await api('POST', '/v1/chat/completions',
    { messages: [{ role: 'user', content }], max_tokens: 16, temperature: 0 });
  assert.equal(expected.status, 200);
  await page.check('input[name=mode][value=chat]');
  await page.fill('#messages .message textarea', content);
  await page.fill('#max_tokens', '16');
  await page.click('#generate');
  await finished();
  assert.equal(await page.getAttribute('#request', 'data-state'), 'done');
  assert.equal(await page.textContent('#output'), expected.body.choices[0].message.content);
  assert.match(await page.textContent('#stat-job'), /^chatcmpl-/);
  await page.check('input[name=mode][value=prompt]');
});

check('a task sends its fields from the form and streams the text the API answers; an empty field is refused',
  async () => {
    const fields = { title: 'Free software', body: 'You may make and give copies of the Program.' };
    const settings = { max_tokens: 16, temperature: 0, top_p: '', seed: '', stop: '' };
    const expected = await api('POST', '/v1/completions',
      { task: 'news-summary', task_fields: fields, max_tokens: 16, temperature: 0 });
    assert.equal(expected.status, 200, JSON.stringify(expected.body));
    await page.check('input[name=mode][value=task]');
    await page.selectOption('#task', 'news-summary');
    for (const [name, value] of Object.entries(fields)) {
      await page.fill(`#task-fields textarea[data-field=${name}]`, value);
    }
    for (const [id, value] of Object.entries(settings)) {
      await page.fill(`#${id}`, String(value));
    }
    await page.click('#generate');
    await finished();
    assert.equal(await page.getAttribute('#request', 'data-state'), 'done');
    assert.equal(await page.textContent('#output'), expected.body.choices[0].text);

    // A required field left empty is sent as it is, and the API says what is missing.
    const refused = await api('POST', '/v1/completions',
      { task: 'news-summary', task_fields: { title: fields.title, body: '' }, max_tokens: 16, stream: true });
    assert.equal(refused.status, 400);
    await page.fill('#task-fields textarea[data-field=body]', '');
    await page.click('#generate');
    await finished();
    assert.equal(await page.getAttribute('#request', 'data-state'), 'error');
    assert.equal(await page.textContent('#error'), `${refused.body.error.message} (${refused.body.error.code})`);
    await page.check('input[name=mode][value=prompt]');
  });

check('an invalid setting shows the API\'s own error', async () => {
  const prompt = 'You may make and give copies';
  const expected = await api('POST', '/v1/completions', { prompt, max_tokens: 8, temperature: 5, stream: true });
  assert.equal(expected.status, 400);
  await generate({ max_tokens: 8, temperature: 5 }, prompt);
  await finished();
  assert.equal(await page.getAttribute('#request', 'data-state'), 'error');
  assert.equal(await page.textContent('#error'), `${expected.body.error.message} (${expected.body.error.code})`);
  assert.equal(await page.textContent('#output'), '');
  await page.fill('#temperature', '0');
});

check('while the pipeline is busy, the panel shows its queues and batch; stop cancels the job', async () => {
  // Work ahead of the page's request: long generations of 8 choices each, so the worker's batch is full for seconds.
  const ahead = [];
  for (let i = 0; i < 48; i++) {
    const job = await api('POST', '/v1/jobs',
      { prompt: 'Each contributor', max_tokens: 240, n: 8, temperature: 0.9, ignore_eos: true });
    assert.equal(job.status, 202, JSON.stringify(job.body));
    ahead.push(job.body.id);
  }
  try {
    await until('the panel to show a running batch', async () => {
      const cells = await page.$$eval('#workers tbody tr', (rows) => rows.map((r) =>
        [...r.children].map((c) => c.textContent)));
      return cells.some((c) => Number(c[3]) > 0);
    });
    const closedBefore = await metric(`${base}/metrics`, 'aigc_gateway_streams_total{outcome="client_closed"}');
    const cancelledBefore = await metric(workerMetrics, 'aigc_worker_requests_total{outcome="cancelled"}');
    await generate({ max_tokens: 200, temperature: 0 }, 'Permission is hereby granted');
    // The gateway holds the stream open (its job queued behind the others): stop it there.
    await until('the stream to be open', async () => await metric(`${base}/metrics`, 'aigc_gateway_streams_open') > 0);
    await page.click('#stop-button');
    await finished();
    assert.equal(await page.getAttribute('#request', 'data-state'), 'stopped');
    await until('the gateway to see the client leave', async () =>
      await metric(`${base}/metrics`, 'aigc_gateway_streams_total{outcome="client_closed"}') > closedBefore);
    // The worker drops the job: cancelled, never generated.
    await until('the worker to cancel the job', async () =>
      await metric(workerMetrics, 'aigc_worker_requests_total{outcome="cancelled"}') > cancelledBefore);
  } finally {
    await Promise.all(ahead.map((id) => api('DELETE', `/v1/jobs/${id}`)));
  }
  await until('the jobs ahead to end', async () => (await Promise.all(ahead.map((id) => api('GET', `/v1/jobs/${id}`))))
    .every((job) => job.body.status !== 'queued'));
});

check('after traffic the panel shows throughput, time to first token and every service', async () => {
  // The chart's readings: the traffic above generated tokens, and its requests got first tokens.
  const { body } = await api('GET', '/v1/pipeline');
  assert.ok(body.history.some((p) => p.tokens_per_second > 0), JSON.stringify(body.history));
  assert.ok(body.history.some((p) => p.time_to_first_token_ms > 0), JSON.stringify(body.history));
  assert.match(await page.textContent('#p-latest'), /^[\d.]+ tokens\/s, (\d+|–) ms to first token$/);
  const services = await page.$$eval('#services tbody tr', (rows) => rows.map((r) => r.children[0].textContent
    + ' ' + r.children[2].textContent));
  assert.deepEqual(services.sort(), ['inference-worker up', 'postprocessor up', 'tokenizer-service up']);
  assert.equal(await page.textContent('#p-dead-letters'), '0');
  assert.match(await page.textContent('#p-wait-worker'), /^\d+$/);
});

check('the page as a person sees it (screenshot)', async () => {
  await generate({ max_tokens: 48, temperature: 0 }, 'You may make and give copies');
  await finished();
  await page.waitForFunction(() => /^\d+ ms$/.test(document.getElementById('stat-queue').textContent), null,
    { timeout: WAIT });
  for (const path of screenshots) {
    await page.screenshot({ path, fullPage: true });
  }
  assert.deepEqual(problems, []);
});

await runChecks(() => browser.close());
