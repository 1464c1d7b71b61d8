// Load benchmark of a running qwenserve: for each concurrency level, that
// many streaming clients each send `requests` chat requests (a prompt of
// `prompt_words` words, `tokens` tokens generated, ignore_eos) and the
// run reports the prompts' mean length in tokens (from the streams' usage),
// aggregate generated tokens/s, time to first token p50/p99
// and inter-token latency p50/p99, as one JSON line per level.
// Usage: node bench_serve.cjs URL MODEL LEVELS(1,4,8,16) [requests] [tokens] [prompt_words]
'use strict';
const [url, model, levelsArg, requestsArg, tokensArg, wordsArg] = process.argv.slice(2);
const levels = levelsArg.split(',').map(Number);
const requests = Number(requestsArg || 1), tokens = Number(tokensArg || 64), words = Number(wordsArg || 40);

function pct(xs, p) {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
}

async function one(i) {
  const prompt = Array.from({ length: words }, (_, k) => `word${(i * 7 + k) % 97}`).join(' ');
  const t0 = performance.now();
  const r = await fetch(url + '/v1/chat/completions', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], max_tokens: tokens, ignore_eos: true,
                           temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  if (!r.ok) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '', first = 0, last = 0, chunks = 0, promptTokens = null;
  const gaps = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: {')) continue;
      const chunk = JSON.parse(event.slice(6));
      if (chunk.usage) promptTokens = chunk.usage.prompt_tokens;
      if (!chunk.choices.some((c) => c.delta && c.delta.content)) continue;
      const now = performance.now();
      if (!first) first = now; else gaps.push((now - last) / 1000);
      last = now;
      chunks++;
    }
  }
  return { ttft: (first - t0) / 1000, gaps, end: last, promptTokens };
}

(async () => {
  for (const n of levels) {
    const t0 = performance.now();
    const results = [];
    await Promise.all(Array.from({ length: n }, async (_, c) => {
      for (let k = 0; k < requests; k++) results.push(await one(c * requests + k));
    }));
    const seconds = (performance.now() - t0) / 1000;
    const ttfts = results.map((r) => r.ttft), gaps = results.flatMap((r) => r.gaps);
    console.log(JSON.stringify({
      clients: n, requests: results.length, tokens_each: tokens,
      // null unless every stream reported its usage (a sum with null would count it as 0)
      prompt_tokens_mean: results.every((r) => r.promptTokens !== null)
        ? results.reduce((a, r) => a + r.promptTokens, 0) / results.length : null,
      aggregate_tok_s: results.length * tokens / seconds, wall_s: seconds,
      ttft_p50_s: pct(ttfts, 50), ttft_p99_s: pct(ttfts, 99), itl_p50_s: pct(gaps, 50), itl_p99_s: pct(gaps, 99),
    }));
  }
})().catch((e) => { console.error('bench_serve: ' + e.message); process.exit(1); });
