// Load client for serve-bench.sh: CONCURRENCY clients send REQUESTS streaming completions in all (no packages
// needed: Node's own fetch). Prints one JSON line: wall seconds, requests/s, completion tokens/s, latency medians.
// Usage: node load.mjs BASE_URL CONCURRENCY REQUESTS MAX_TOKENS
const [base, concurrency, requests, maxTokens] = [process.argv[2], ...process.argv.slice(3, 6).map(Number)];
const prompts = [
  'Tom has 3 apples and buys 5 more. How many apples does he have?',
  'What is 7 * 6?',
  'Name three colours of the rainbow.',
  'Write a short story about a cat who learns to swim, in two sentences.',
  'Why is the sky blue?',
  'A train leaves at 3 pm and travels 120 km at 60 km/h. When does it arrive?',
  'List four fruits.',
  'Say hello.',
];
let next = 0;
const latencies = [];
const firstTokens = [];
let tokens = 0;

async function one(i) {
  const start = performance.now();
  const response = await fetch(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: prompts[i % prompts.length], max_tokens: maxTokens, stream: true,
      stream_options: { include_usage: true } }),
  });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffer = '';
  let first = null;
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const chunk = JSON.parse(event.slice(6));
      if (first === null && chunk.choices.length > 0) first = performance.now() - start;
      if (chunk.usage) tokens += chunk.usage.completion_tokens;
    }
  }
  latencies.push(performance.now() - start);
  firstTokens.push(first);
}

async function client() {
  while (next < requests) {
    await one(next++);
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, client));
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ concurrency, requests, seconds, requests_per_s: requests / seconds,
  tokens_per_s: tokens / seconds, completion_tokens: tokens, latency_ms_p50: median(latencies),
  first_token_ms_p50: median(firstTokens) }));
