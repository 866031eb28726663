// A CPU profile of one Worker in `workerd serve` through its inspector (the DevTools protocol),
// summed by function: where a Worker's time goes.

/** Connects to the inspector target of `service` at 127.0.0.1:`port`. */
async function connect(port, service) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => t.title === service || t.id === service)
    ?? targets.find((t) => t.title?.includes(service) || t.id?.includes(service) || t.url?.includes(service)) ?? null;
  if (!target) throw new Error(`no inspector target for ${service}: ${JSON.stringify(targets.map((t) => t.title ?? t.id))}`);
  const url = target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${port}/${target.id}`;
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.id && pending.has(message.id)) {
      pending.get(message.id)(message);
      pending.delete(message.id);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => socket.close() };
}

/**
 * Profiles `service` while `work()` runs; returns { total_ms, top: [{ name, self_ms, share }] }
 * (self time summed by function name, idle and program excluded from the shares).
 */
export async function profileWhile(port, service, work, { intervalUs = 200, top = 25 } = {}) {
  const inspector = await connect(port, service);
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await inspector.send('Profiler.start');
  const result = await work();
  const { profile } = await inspector.send('Profiler.stop');
  inspector.close();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const deltas = profile.timeDeltas ?? [];
  const sampleMs = deltas.length ? deltas.reduce((a, b) => a + b, 0) / deltas.length / 1000 : intervalUs / 1000;
  const selfByName = new Map();
  let busy = 0;
  for (const [id, count] of counts) {
    const frame = byId.get(id).callFrame;
    const name = frame.functionName || `(anonymous ${frame.url.split('/').pop()}:${frame.lineNumber})`;
    if (name === '(idle)' || name === '(program)') continue;
    busy += count;
    selfByName.set(name, (selfByName.get(name) ?? 0) + count);
  }
  const rows = [...selfByName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, count]) => ({ name, self_ms: count * sampleMs, share: count / busy }));
  return { result, busy_ms: busy * sampleMs, top: rows };
}
