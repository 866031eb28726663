// A workerd config (Cap'n Proto text) for the built Workers, and `workerd serve` itself.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** wrangler.toml's date, which the pinned workerd supports. */
export const COMPATIBILITY_DATE = '2026-10-30';

const str = (value) => JSON.stringify(String(value));

/**
 * workers: [{ name, port, modules: [{ name, path, kind: 'esModule'|'wasm' }], bindings: {NAME: text} }].
 * Outbound fetches may reach loopback (the local stack), which workerd's default "internet"
 * service refuses. `embed` paths are relative to the config file's directory, `configDir`.
 */
export function workerdConfig(workers, configDir) {
  const services = workers.map((w) => {
    const modules = w.modules.map((m) => `(name = ${str(m.name)}, ${m.kind} = embed ${str(relative(configDir, m.path))})`).join(',\n        ');
    const bindings = Object.entries(w.bindings)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `(name = ${str(k)}, text = ${str(v)})`)
      .join(',\n        ');
    return `    (name = ${str(w.name)}, worker = (
      modules = [
        ${modules}
      ],
      compatibilityDate = ${str(COMPATIBILITY_DATE)},
      bindings = [
        ${bindings}
      ],
    )),`;
  });
  const sockets = workers.map((w) => `    (name = ${str(w.name)}, address = ${str(`127.0.0.1:${w.port}`)}, http = (), service = ${str(w.name)}),`);
  return `# Written by bench/bench.mjs for \`workerd serve\`; regenerated on every run.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
${services.join('\n')}
    (name = "internet", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [
${sockets.join('\n')}
  ],
);
`;
}

/** The modules of a worker-build output directory (build/<name>/): its JS glue and its wasm. */
export function builtModules(dir) {
  return [
    { name: 'index.js', path: join(dir, 'index.js'), kind: 'esModule' },
    { name: 'index_bg.wasm', path: join(dir, 'index_bg.wasm'), kind: 'wasm' },
  ];
}

/**
 * Writes the config to `file` and starts `workerd serve` (pinned to `cpus` with taskset when
 * given); resolves once every socket answers. Returns { child, stop }.
 */
export async function startWorkerd({ workerd, file, workers, cpus, logFile, inspectorPort }) {
  writeFileSync(file, workerdConfig(workers, dirname(file)));
  const args = ['serve', file, '--verbose'];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const [cmd, cmdArgs] = cpus ? ['taskset', ['-c', cpus, workerd, ...args]] : [workerd, args];
  const { openSync } = await import('node:fs');
  const log = openSync(logFile, 'a');
  const child = spawn(cmd, cmdArgs, { stdio: ['ignore', log, log], detached: true });
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // gone already
    }
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}); see ${logFile}`);
    const up = await Promise.all(
      workers.map((w) => fetch(`http://127.0.0.1:${w.port}/__bench_ready`).then(() => true, () => false)),
    );
    if (up.every(Boolean)) return { child, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  throw new Error(`workerd did not answer within 20 s; see ${logFile}`);
}
