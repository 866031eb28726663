// The real flows, Rust functions against their JavaScript peers (bench/peer-js/flows.mjs):
// first a check that both answer a set of happy and unhappy requests the same way (the run
// fails on a mismatch), then alternating rounds of each flow on each contender.

/** Headers whose values must match between the Rust function and its peer. */
const COMPARED_HEADERS = ['content-type', 'access-control-allow-origin', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-expose-headers', 'allow', 'content-range'];
/** Fields that differ by nature between two calls (time of the write). */
const VOLATILE = new Set(['updated_at']);

const strip = (value) => {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => !VOLATILE.has(k)).map(([k, v]) => [k, strip(v)]));
  return value;
};

async function answer(url, request) {
  const res = await fetch(url, { method: request.method ?? 'GET', headers: request.headers, body: request.body, redirect: 'manual' });
  const text = await res.text();
  let body = text;
  try {
    body = strip(JSON.parse(text));
  } catch {}
  return { status: res.status, body, headers: Object.fromEntries(COMPARED_HEADERS.map((h) => [h, res.headers.get(h)])), requestId: res.headers.get('x-request-id') };
}

/**
 * cases: [{ flow, label, path, request, … }]; rustUrl(case) and jsUrl(case) give the two URLs.
 * Returns the list of mismatches (empty when every answer matches).
 */
export async function compareFlows(cases, rustUrl, jsUrl) {
  const mismatches = [];
  for (const c of cases) {
    const rust = await answer(rustUrl(c), c.request);
    const js = await answer(jsUrl(c), c.request);
    const same = rust.status === js.status && JSON.stringify(rust.body) === JSON.stringify(js.body)
      && JSON.stringify(rust.headers) === JSON.stringify(js.headers) && Boolean(rust.requestId) && Boolean(js.requestId);
    if (!same) mismatches.push({ label: `${c.flow}: ${c.label}`, rust, js });
  }
  return mismatches;
}

/** The middle value of `runs[key]`. */
export const median = (runs, key) => [...runs.map((r) => r[key])].sort((a, b) => a - b)[Math.floor(runs.length / 2)];

/**
 * Alternating rounds: for each round, each contender of each flow once (order rotated per
 * round, so neither always runs first). contenders: [{ flow, label, request }].
 */
export async function alternate(contenders, rounds, drive, log) {
  const runs = contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const k = (i + round) % contenders.length;
      log(`flows round ${round + 1}/${rounds}: ${contenders[k].flow} (${contenders[k].label})`);
      runs[k].push(await drive(contenders[k].request));
    }
  }
  return contenders.map((c, k) => ({
    ...c,
    rps: median(runs[k], 'rps'),
    p50_ms: median(runs[k], 'p50_ms'),
    cpu_us: median(runs[k], 'cpu_ms_per_req') * 1000,
    failures: runs[k].reduce((n, r) => n + r.non2xx + r.errors, 0),
    rounds: runs[k].map((r) => Math.round(r.rps)),
  }));
}
