// Drives a running `host.jar serve` with the official OpenAI Node client, as a new user would.
// Usage: node client.mjs http://127.0.0.1:PORT/v1
// Prints one JSON line of what it saw; exits 1 with a message on the first check that fails.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const client = new OpenAI({ baseURL: process.argv[2], apiKey: 'unused', maxRetries: 0, timeout: 120_000 });
const seen = {};

// many clients and UIs list the models first
const models = await client.models.list();
const ids = models.data.map((m) => m.id);
assert.equal(ids.length, 1, `one model: ${ids}`);
seen.model = ids[0];

const messages = [{ role: 'user', content: 'What is 7 * 6?' }];
const whole = await client.chat.completions.create({ model: seen.model, messages, max_tokens: 12 });
const wholeText = whole.choices[0].message.content;
assert.equal(whole.object, 'chat.completion');
assert.ok(whole.usage.completion_tokens >= 1 && whole.usage.completion_tokens <= 12, JSON.stringify(whole.usage));

// chat streaming: the pieces add up to the whole answer
const stream = await client.chat.completions.create({
  model: seen.model, messages, max_tokens: 12, stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let chunks = 0;
let finish = null;
let usage = null;
for await (const chunk of stream) {
  chunks++;
  assert.equal(chunk.object, 'chat.completion.chunk');
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    streamed += choice.delta.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
assert.equal(streamed, wholeText, 'streamed chat text equals the whole answer');
assert.equal(finish, whole.choices[0].finish_reason);
assert.deepEqual(usage, whole.usage);
seen.chatChunks = chunks;

// text completions, whole and streamed, with a stop string taken from the whole answer
const prompt = 'Tom has 3 apples.';
const text = (await client.completions.create({ model: seen.model, prompt, max_tokens: 16 })).choices[0].text;
let pieces = '';
for await (const chunk of await client.completions.create({ model: seen.model, prompt, max_tokens: 16, stream: true })) {
  pieces += chunk.choices[0]?.text ?? '';
}
assert.equal(pieces, text, 'streamed text equals the whole completion');
if (text.length >= 4) {
  const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 2);
  const cut = await client.completions.create({ model: seen.model, prompt, max_tokens: 16, stop: [stop] });
  assert.equal(cut.choices[0].text, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.choices[0].finish_reason, 'stop');
  seen.stop = stop;
}

// concurrent streams share the server's forward steps and still get their single answers
const prompts = ['Name a colour.', 'Count to five:', 'Why is the sky blue?', 'A short story about a cat.'];
const alone = [];
for (const p of prompts) {
  alone.push((await client.completions.create({ model: seen.model, prompt: p, max_tokens: 10 })).choices[0].text);
}
const together = await Promise.all(prompts.map(async (p) => {
  let out = '';
  for await (const chunk of await client.completions.create({ model: seen.model, prompt: p, max_tokens: 10, stream: true })) {
    out += chunk.choices[0]?.text ?? '';
  }
  return out;
}));
assert.deepEqual(together, alone, 'concurrent streamed answers equal single answers');

// a bad request is a 400 APIError with the server's message
try {
  await client.completions.create({ model: seen.model, prompt: 'x', max_tokens: 1e9 });
  assert.fail('max_tokens 1e9 was accepted');
} catch (e) {
  assert.ok(e instanceof OpenAI.APIError, String(e));
  assert.equal(e.status, 400);
  assert.match(e.message, /too large/);
  seen.error = e.message;
}
seen.ok = true;
console.log(JSON.stringify(seen));
