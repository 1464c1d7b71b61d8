// qwenserve as an application meets it: the official `openai` npm client
// against a live server on loopback. Expected texts come from qwenrun (the
// same model, greedy, alone), written by run_server_test.sh. Every request
// is small and the whole run is bounded in time.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { OpenAI } = require(process.env.OPENAI_MODULE);

const base = process.env.QWENSERVE_URL;  // http://127.0.0.1:PORT
const key = process.env.QWENSERVE_KEY;
const model = process.env.QWENSERVE_MODEL;
const expected = JSON.parse(fs.readFileSync(process.env.EXPECTED_JSON, 'utf8'));
const client = new OpenAI({ baseURL: base + '/v1', apiKey: key, maxRetries: 0, timeout: 60000 });
const greedy = { temperature: 0 };
setTimeout(() => { console.error('FAIL: the client run took over 120 s'); process.exit(1); }, 120000).unref();

async function metric(name) {
  const text = await (await fetch(base + '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

async function rejects(promise, status, check) {
  try { await promise; } catch (e) {
    assert.equal(e.status, status, `status of ${e.message}`);
    if (check) check(e);
    return;
  }
  assert.fail(`expected HTTP ${status}`);
}

const tests = {
  async models() {
    const list = await client.models.list();
    assert.deepEqual(list.data.map((m) => m.id), [model]);
  },

  async chat_matches_qwenrun() {
    const r = await client.chat.completions.create({ model, messages: expected.chat.messages, max_tokens: 8, ...greedy });
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(r.choices[0].message.content, expected.chat.text);
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 8);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 8);
  },

  async stream_matches_qwenrun() {
    const stream = await client.chat.completions.create({
      model, messages: expected.chat.messages, max_tokens: 8, stream: true, stream_options: { include_usage: true }, ...greedy,
    });
    let text = '', finish = null, usage = null, chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.equal(text, expected.chat.text);
    assert.equal(finish, 'length');
    assert.ok(chunks >= 4, `${chunks} chunks: the text came in pieces`);
    assert.equal(usage.completion_tokens, 8);
  },

  async repeated_and_continued_chats_reuse_the_cache() {
    // The same messages as above again: all the prompt but its last token
    // comes from the prefix cache, and the answer is still qwenrun's.
    const hits = await metric('qwenc:prefix_cache_hits_total');
    const a = await client.chat.completions.create({ model, messages: expected.chat.messages, max_tokens: 8, ...greedy });
    assert.equal(a.choices[0].message.content, expected.chat.text);
    assert.equal(a.usage.prompt_tokens_details.cached_tokens, a.usage.prompt_tokens - 1);
    // The conversation's next turn reads only what the first did not.
    const next = [...expected.chat.messages, { role: 'assistant', content: a.choices[0].message.content }, { role: 'user', content: 'And then?' }];
    const b = await client.chat.completions.create({ model, messages: next, max_tokens: 4, ...greedy });
    const cached = b.usage.prompt_tokens_details.cached_tokens;
    assert.ok(cached >= a.usage.prompt_tokens && cached < b.usage.prompt_tokens, `${cached} of ${b.usage.prompt_tokens} prompt tokens cached`);
    assert.ok(await metric('qwenc:prefix_cache_hits_total') >= hits + a.usage.prompt_tokens - 1 + cached);
  },

  async completion_matches_qwenrun() {
    const r = await client.completions.create({ model, prompt: expected.completion.prompt, max_tokens: 6, ...greedy });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.choices[0].text, expected.completion.text);
    assert.equal(r.choices[0].finish_reason, 'length');
  },

  async concurrent_requests_each_match_qwenrun() {
    // Eight at once share the batch; each gets what it gets alone.
    const before = await metric('qwenc:generation_tokens_total');
    const replies = await Promise.all(expected.many.map((e) =>
      client.chat.completions.create({ model, messages: e.messages, max_tokens: 6, ...greedy })));
    replies.forEach((r, i) => assert.equal(r.choices[0].message.content, expected.many[i].text, `request ${i}`));
    assert.equal(await metric('qwenc:generation_tokens_total'), before + 6 * expected.many.length);
  },

  async tools_reach_the_template() {
    // With tools offered the template renders them into the prompt: the
    // reply is qwenrun's for the same messages and --tools, and the prompt
    // is longer than without them.
    const r = await client.chat.completions.create({ model, messages: expected.chat.messages, tools: expected.tools.tools, max_tokens: 8, ...greedy });
    assert.equal(r.choices[0].message.content, expected.tools.text);
    const plain = await client.chat.completions.create({ model, messages: expected.chat.messages, max_tokens: 1, ...greedy });
    assert.ok(r.usage.prompt_tokens > plain.usage.prompt_tokens + 20, `${r.usage.prompt_tokens} vs ${plain.usage.prompt_tokens} prompt tokens`);
  },

  async load_32_streaming_clients() {
    // 32 clients at once, two requests each, streamed and greedy: every
    // stream ends well-formed and every answer is qwenrun's alone.
    const queue = expected.load.slice();
    let done = 0;
    const client_loop = async () => {
      for (let e; (e = queue.shift()) !== undefined;) {
        const stream = await client.chat.completions.create({
          model, messages: [{ role: 'user', content: e.prompt }], max_tokens: 5, stream: true, ...greedy,
        });
        let text = '', finish = null;
        for await (const chunk of stream) {
          for (const c of chunk.choices) { text += c.delta.content ?? ''; if (c.finish_reason) finish = c.finish_reason; }
        }
        assert.equal(finish, 'length', `finish of "${e.prompt}"`);
        assert.equal(text, e.text, `answer to "${e.prompt}"`);
        done++;
      }
    };
    await Promise.all(Array.from({ length: 32 }, client_loop));
    assert.equal(done, expected.load.length);
  },

  async stop_strings() {
    const cut = expected.chat.text.slice(3, 6);
    const r = await client.chat.completions.create({ model, messages: expected.chat.messages, max_tokens: 8, stop: [cut], ...greedy });
    assert.equal(r.choices[0].message.content, expected.chat.text.slice(0, expected.chat.text.indexOf(cut)));
    assert.equal(r.choices[0].finish_reason, 'stop');
  },

  async sampling_fields_and_seed() {
    const ask = () => client.chat.completions.create({
      model, messages: expected.chat.messages, max_tokens: 6, temperature: 0.9, top_p: 0.95, seed: 7,
      presence_penalty: 0.5, frequency_penalty: 0.2, top_k: 50, min_p: 0.01, repetition_penalty: 1.1,
    });
    const [a, b] = [await ask(), await ask()];
    assert.equal(a.choices[0].message.content, b.choices[0].message.content, 'the same seed, the same text');
  },

  async bad_requests_get_openai_errors() {
    await rejects(client.chat.completions.create({ model: 'gpt-4o', messages: expected.chat.messages }), 404,
      (e) => assert.equal(e.code, 'model_not_found'));
    await rejects(client.chat.completions.create({ model, messages: expected.chat.messages, n: 2 }), 400,
      (e) => assert.equal(e.param, 'n'));
    await rejects(client.chat.completions.create({ model, messages: 'hello' }), 400);
    await rejects(client.chat.completions.create({ model, messages: expected.chat.messages, temperature: 'hot' }), 400,
      (e) => assert.equal(e.param, 'temperature'));
    await rejects(client.chat.completions.create({ model, messages: expected.chat.messages, max_tokens: 100000 }), 400,
      (e) => assert.equal(e.code, 'context_length_exceeded'));
    const long = 'lorem ipsum dolor '.repeat(3000);
    await rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: long }] }), 400,
      (e) => assert.equal(e.code, 'context_length_exceeded'));
    await rejects(client.chat.completions.create({ model, messages: [{ role: 'wizard', content: 'hi' }] }), 400);
    const raw = async (body, headers = {}) => fetch(base + '/v1/chat/completions', {
      method: 'POST', body, headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key, ...headers },
    });
    let res = await raw('{"model": ');
    assert.equal(res.status, 400);
    assert.equal(typeof (await res.json()).error.message, 'string');
    res = await raw('x'.repeat(5 << 20));
    assert.equal(res.status, 413);
    assert.equal(typeof (await res.json()).error.message, 'string');
    res = await fetch(base + '/v1/nowhere');
    assert.equal(res.status, 404);
  },

  async api_key_is_required() {
    const wrong = new OpenAI({ baseURL: base + '/v1', apiKey: 'not-the-key', maxRetries: 0 });
    await rejects(wrong.models.list(), 401);
    await rejects(wrong.chat.completions.create({ model, messages: expected.chat.messages }), 401);
    const res = await fetch(base + '/v1/models');
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, 'invalid_api_key');
  },

  async a_client_that_leaves_frees_its_sequence() {
    const before = await metric('qwenc:generation_tokens_total');
    const stream = await client.chat.completions.create({ model, messages: expected.chat.messages, max_tokens: 3000, stream: true, ...greedy });
    let chunks = 0;
    for await (const chunk of stream) { if (++chunks === 3) break; }  // leaving the loop aborts the request
    for (let i = 0; i < 100 && (await metric('qwenc:num_requests_running')) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await metric('qwenc:num_requests_running'), 0);
    const generated = (await metric('qwenc:generation_tokens_total')) - before;
    assert.ok(generated < 3000, `${generated} tokens generated for a client that left after 3 chunks`);
  },
};

(async () => {
  for (const [name, test] of Object.entries(tests)) {
    try {
      await test();
      console.log(`ok ${name}`);
    } catch (e) {
      console.error(`FAIL ${name}: ${e.stack || e}`);
      process.exit(1);
    }
  }
})();
