// Talking to the gateway's API: the key (kept in this tab's session storage only), JSON calls, and streamed answers
// read as Server-Sent Events from a POST (EventSource cannot POST).

const KEY = 'aigc.apiKey';

export function apiKey() {
  return sessionStorage.getItem(KEY) ?? '';
}

export function setApiKey(key) {
  if (key) {
    sessionStorage.setItem(KEY, key);
  } else {
    sessionStorage.removeItem(KEY);
  }
}

/** An error the API answered with: its message, code and HTTP status, as OpenAI's error body gives them. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? null;
    this.param = error?.param ?? null;
  }
}

function headers(json) {
  const h = {};
  if (json) {
    h['Content-Type'] = 'application/json';
  }
  const key = apiKey();
  if (key) {
    h.Authorization = `Bearer ${key}`;
  }
  return h;
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: the status says enough.
  }
  return new ApiError(response.status, body?.error);
}

/** GET a JSON resource of the API; throws ApiError on an error answer. */
export async function getJson(path) {
  const response = await fetch(path, { headers: headers(false), cache: 'no-store' });
  if (!response.ok) {
    throw await failure(response);
  }
  return response.json();
}

/**
 * POSTs a streamed request and calls onChunk with each parsed chunk, in order, until [DONE]. Resolves when the stream
 * ends; throws ApiError for an error answered before the stream or sent in it, and the AbortError of `signal`.
 */
export async function stream(path, body, { signal, onChunk }) {
  const response = await fetch(path, {
    method: 'POST', headers: headers(true), body: JSON.stringify(body), signal, cache: 'no-store',
  });
  if (!response.ok) {
    throw await failure(response);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      throw new ApiError(response.status, { message: 'The stream ended before [DONE].' });
    }
    buffered += value;
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data === '') {
        continue;
      }
      if (data === '[DONE]') {
        reader.cancel().catch(() => {});
        return;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) {
        throw new ApiError(response.status, chunk.error);
      }
      onChunk(chunk);
    }
  }
}
