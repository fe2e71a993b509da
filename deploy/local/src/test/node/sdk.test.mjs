// The official openai npm SDK against the gateway, as an OpenAI client would use it. OpenAiSdkTest (deploy/local)
// starts the pipeline and runs this with OPENAI_BASE_URL, OPENAI_API_KEY and AIGC_MODEL set; it prints one line per
// check ("ok - ..." or "not ok - ...") and exits non-zero when any fails.
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { check, runChecks } from './checks.mjs';

const client = new OpenAI({ maxRetries: 0, timeout: 60_000 });
const model = process.env.AIGC_MODEL;
const prompt = 'You may make and give copies';
const messages = [{ role: 'user', content: 'What may I do with copies of the Program?' }];

/** Every chunk of a stream, in order. */
async function chunks(stream) {
  const all = [];
  for await (const chunk of stream) {
    all.push(chunk);
  }
  return all;
}

/** The text of each choice of a stream, and how many finish_reasons each got. */
function joined(all, pick) {
  const text = {};
  const finishes = {};
  for (const chunk of all) {
    for (const choice of chunk.choices) {
      text[choice.index] = (text[choice.index] ?? '') + (pick(choice) ?? '');
      if (choice.finish_reason) {
        finishes[choice.index] = (finishes[choice.index] ?? 0) + 1;
      }
    }
  }
  return { text, finishes };
}

check('models.list names the served model', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    ids.push(m.id);
  }
  assert.ok(ids.includes(model), `models: ${ids}`);
});

check('a completion, whole and streamed, is the same text', async () => {
  const whole = await client.completions.create({ model, prompt, max_tokens: 20, temperature: 0 });
  assert.equal(whole.object, 'text_completion');
  assert.ok(whole.choices[0].text.length > 0);
  const all = await chunks(await client.completions.create(
    { model, prompt, max_tokens: 20, temperature: 0, stream: true }));
  assert.ok(all.length > 1, 'more than one chunk');
  assert.ok(all.every((c) => c.object === 'text_completion' && c.id === all[0].id), 'one id, text_completion');
  const { text, finishes } = joined(all, (c) => c.text);
  assert.equal(text[0], whole.choices[0].text);
  assert.deepEqual(finishes, { 0: 1 });
});

check('a chat, whole and streamed, is the same message; the first delta says who speaks', async () => {
  const whole = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0 });
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.choices[0].message.role, 'assistant');
  const all = await chunks(await client.chat.completions.create(
    { model, messages, max_tokens: 20, temperature: 0, stream: true }));
  assert.ok(all.every((c) => c.object === 'chat.completion.chunk' && c.id === all[0].id));
  assert.equal(all[0].choices[0].delta.role, 'assistant');
  const { text, finishes } = joined(all, (c) => c.delta.content);
  assert.equal(text[0], whole.choices[0].message.content);
  assert.deepEqual(finishes, { 0: 1 });
});

check('the SDK streaming helper completes a chat', async () => {
  const runner = client.chat.completions.stream({ model, messages, max_tokens: 16, temperature: 0 });
  let deltas = '';
  runner.on('content', (delta) => { deltas += delta; });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, deltas);
  assert.ok(['stop', 'length'].includes(final.choices[0].finish_reason));
});

check('n > 1 streamed: every choice ends with exactly one finish_reason and its own seeded text', async () => {
  const request = { model, messages, max_tokens: 16, temperature: 1, seed: 7, n: 3 };
  const whole = await client.chat.completions.create(request);
  const all = await chunks(await client.chat.completions.create({ ...request, stream: true }));
  const { text, finishes } = joined(all, (c) => c.delta.content);
  assert.deepEqual(finishes, { 0: 1, 1: 1, 2: 1 });
  for (const choice of whole.choices) {
    assert.equal(text[choice.index], choice.message.content, `choice ${choice.index}`);
  }
});

check('a stop string never reaches the stream', async () => {
  const whole = await client.completions.create({ model, prompt, max_tokens: 24, temperature: 0 });
  const text = whole.choices[0].text;
  const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 3);
  const all = await chunks(await client.completions.create(
    { model, prompt, max_tokens: 24, temperature: 0, stop: [stop], stream: true }));
  const streamed = joined(all, (c) => c.text).text[0];
  assert.ok(!streamed.includes(stop), `${JSON.stringify(streamed)} contains ${JSON.stringify(stop)}`);
  assert.equal(streamed, text.slice(0, text.indexOf(stop)));
  assert.equal(all.filter((c) => c.choices.length && c.choices[0].finish_reason).at(-1).choices[0].finish_reason,
    'stop');
});

check('include_usage adds a last chunk with no choices and the usage', async () => {
  const whole = await client.completions.create({ model, prompt, max_tokens: 12, temperature: 0 });
  const all = await chunks(await client.completions.create(
    { model, prompt, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } }));
  const last = all.at(-1);
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, whole.usage);
});

check('an invalid request raises BadRequestError', async () => {
  await assert.rejects(client.completions.create({ model, prompt, temperature: 5 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /temperature/.test(e.message));
});

check('a wrong key raises AuthenticationError', async () => {
  const stranger = new OpenAI({ apiKey: 'sk-not-a-key', maxRetries: 0 });
  await assert.rejects(stranger.completions.create({ model, prompt }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});

/** Polls a batch until it is done with, as a client of OpenAI's Batch API does. */
async function settled(id, deadlineMs = 150_000) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
      return batch;
    }
    assert.ok(Date.now() < until, `batch ${id} still ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A file's JSONL lines, by custom_id. */
async function lines(fileId) {
  const text = await (await client.files.content(fileId)).text();
  return new Map(text.trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.custom_id, l]));
}

check('a 200-line batch completes with every result in OpenAI\'s output format', async () => {
  const requests = Array.from({ length: 200 }, (_, i) => JSON.stringify({
    custom_id: `request-${i}`, method: 'POST', url: '/v1/completions',
    body: { model, prompt: `${prompt} ${i}`, max_tokens: 2, temperature: 0 },
  }));
  const file = await client.files.create({
    file: await toFile(Buffer.from(requests.join('\n') + '\n'), 'requests.jsonl'), purpose: 'batch',
  });
  assert.equal(file.purpose, 'batch');
  const created = await client.batches.create(
    { input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h', metadata: { run: 'sdk' } });
  assert.equal(created.object, 'batch');
  assert.deepEqual(created.metadata, { run: 'sdk' });
  const batch = await settled(created.id);
  assert.equal(batch.status, 'completed', JSON.stringify(batch));
  assert.deepEqual(batch.request_counts, { total: 200, completed: 200, failed: 0 });
  assert.equal(batch.error_file_id, null);
  const output = await lines(batch.output_file_id);
  assert.equal(output.size, 200);
  for (let i = 0; i < 200; i++) {
    const line = output.get(`request-${i}`);
    assert.ok(line, `request-${i} has a result`);
    assert.deepEqual(Object.keys(line).sort(), ['custom_id', 'error', 'id', 'response']);
    assert.equal(line.error, null);
    assert.equal(line.response.status_code, 200);
    assert.equal(typeof line.response.request_id, 'string');
    assert.equal(line.response.body.object, 'text_completion');
    assert.equal(line.response.body.id, line.response.request_id);
    assert.equal(line.response.body.usage.completion_tokens <= 2, true);
  }
  const listed = [];
  for await (const b of client.batches.list({ limit: 100 })) {
    listed.push(b.id);
  }
  assert.ok(listed.includes(batch.id));
});

check('a chat batch answers chat.completion bodies; a bad line goes to the error file', async () => {
  const requests = [
    ...Array.from({ length: 3 }, (_, i) => ({ custom_id: `chat-${i}`, method: 'POST', url: '/v1/chat/completions',
      body: { model, messages, max_tokens: 2, temperature: 0 } })),
    { custom_id: 'too-hot', method: 'POST', url: '/v1/chat/completions', body: { model, messages, temperature: 5 } },
  ].map((r) => JSON.stringify(r)).join('\n');
  const file = await client.files.create({ file: await toFile(Buffer.from(requests), 'chat.jsonl'), purpose: 'batch' });
  const batch = await settled((await client.batches.create(
    { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 4, completed: 3, failed: 1 });
  const output = await lines(batch.output_file_id);
  assert.equal(output.get('chat-0').response.body.object, 'chat.completion');
  const errors = await lines(batch.error_file_id);
  assert.equal(errors.get('too-hot').response.status_code, 400);
  assert.equal(errors.get('too-hot').response.body.error.param, 'temperature');
});

check('a cancelled batch ends cancelled, and an unknown one is NotFoundError', async () => {
  const requests = Array.from({ length: 50 }, (_, i) => JSON.stringify({ custom_id: `c-${i}`, method: 'POST',
    url: '/v1/completions', body: { model, prompt, max_tokens: 8 } })).join('\n');
  const file = await client.files.create({ file: await toFile(Buffer.from(requests), 'c.jsonl'), purpose: 'batch' });
  const created = await client.batches.create(
    { input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' });
  const cancelling = await client.batches.cancel(created.id);
  assert.ok(['cancelling', 'cancelled'].includes(cancelling.status), cancelling.status);
  const batch = await settled(created.id);
  assert.equal(batch.status, 'cancelled');
  assert.equal(batch.request_counts.total, 50);
  await assert.rejects(client.batches.retrieve('batch_unknown'),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404);
});

await runChecks();
