// Postgres stopped and started again, then frozen and thawed (issue 19), in the middle of a load
// run over all six functions. While it is down every function must answer quickly with its JSON
// error and 502 or 503 (no hang, no 500, no dropped connection); while every Postgres process is
// frozen (SIGSTOP, new backends included) every function must answer within 12 s with a 502, 503
// or 504 JSON error; devstack and wrangler dev must keep running; afterwards the functions must
// recover by themselves; and every write acknowledged with a 2xx — whenever it was made — must be
// in the database afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { signedUpUser, sql, stack, tenantProject } from '../support/stack.mjs';
import { invoke } from '../support/functions.mjs';
import { functionUrl, openLoop, pool, report, runId, send, setting, summarize } from './support/load.mjs';
import { delivery } from './support/webhook.mjs';

const tenant = tenantProject('tenant');
const pgdata = process.env.LOAD_PGDATA;
const REQUEST_BOUND_MS = 10_000;
/** The longest answer allowed while Postgres is frozen (issue 19's bound). */
const FROZEN_BOUND_MS = 12_000;

/** pg_ctl of the newest installed Postgres, run as the data directory's owner as devstack runs it. */
function pgCtl(args) {
  const bin = process.env.DEVSTACK_PG_BIN
    ?? `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').map(Number).filter(Number.isFinite).sort((a, b) => a - b).pop()}/bin`;
  const command = [`${bin}/pg_ctl`, '-D', pgdata, ...args];
  const asRoot = process.getuid?.() === 0;
  return execFileSync(asRoot ? 'runuser' : command[0], asRoot ? ['-u', 'postgres', '--', ...command] : command.slice(1), {
    encoding: 'utf8',
    timeout: 90_000,
  });
}

/** The server options devstack started Postgres with (postmaster.opts, minus the binary and -D). */
function serverOptions() {
  const words = [...readFileSync(`${pgdata}/postmaster.opts`, 'utf8').matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  const out = [];
  for (let k = 0; k < words.length; k += 1) {
    if (words[k] === '-D') k += 1;
    else out.push(words[k]);
  }
  return out.join(' ');
}

/** The postmaster and every process it has started (backends included), as now. */
function postgresProcesses() {
  const postmaster = Number(readFileSync(`${pgdata}/postmaster.pid`, 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
  return [postmaster, ...children];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const alive = (pid) => {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
};

test('Postgres down mid-run: fast 502/503 JSON errors, no crash, recovery without restarts, no acknowledged write lost', { timeout: 300_000 }, async () => {
  const downSeconds = setting('FAULT_DOWN_SECONDS', null, 5);
  // pg_ctl's shutdown mode: fast (the default: sessions are cut, a clean stop) or immediate (as
  // good as a crash: no checkpoint, recovery from the WAL at the next start).
  const stopMode = process.env.FAULT_STOP_MODE || 'fast';
  assert.ok(['fast', 'immediate', 'smart'].includes(stopMode), `FAULT_STOP_MODE ${stopMode}`);
  const options = serverOptions();
  await underFault({
    name: 'postgres-fault',
    details: { stop_mode: stopMode },
    downSeconds,
    boundMs: REQUEST_BOUND_MS,
    whileDown: [502, 503],
    async interrupt(timeline, at) {
      timeline.stop_begin_ms = at();
      try {
        pgCtl(['-m', stopMode, '-w', 'stop']);
        timeline.stopped_ms = at();
        await sleep(downSeconds * 1000);
      } finally {
        // Started again whatever happened, so the stack outlives a failed test.
        timeline.start_begin_ms = at();
        pgCtl(['-l', `${pgdata}/postgres.log`, '-o', options, '-w', '-t', '60', 'start']);
        timeline.started_ms = at();
      }
    },
  });
});

test('every Postgres process frozen mid-run: every answer within 12 s, recovery after the thaw, no acknowledged write lost', { timeout: 300_000 }, async () => {
  const downSeconds = setting('FREEZE_SECONDS', null, 15);
  await underFault({
    name: 'postgres-freeze',
    details: {},
    downSeconds,
    boundMs: FROZEN_BOUND_MS,
    whileDown: [502, 503, 504],
    async interrupt(timeline, at) {
      // Backends started while frozen (the postmaster forks none, but one may be half-way) are
      // frozen too: the list is taken again every 100 ms.
      const frozen = new Set();
      const freezeAll = () => {
        for (const pid of postgresProcesses()) {
          if (frozen.has(pid)) continue;
          try {
            process.kill(pid, 'SIGSTOP');
            frozen.add(pid);
          } catch {
            // gone meanwhile
          }
        }
      };
      timeline.stop_begin_ms = at();
      const ticker = setInterval(freezeAll, 100);
      try {
        freezeAll();
        timeline.stopped_ms = at();
        await sleep(downSeconds * 1000);
      } finally {
        // Thawed whatever happened, so the stack outlives a failed test.
        clearInterval(ticker);
        timeline.start_begin_ms = at();
        for (const pid of frozen) {
          try {
            process.kill(pid, 'SIGCONT');
          } catch {
            // gone meanwhile
          }
        }
        timeline.started_ms = at();
        timeline.frozen_processes = frozen.size;
      }
    },
  });
});

/**
 * A load run over all six functions with `interrupt` (which fills the timeline's
 * stop_begin/stopped/start_begin/started marks) `before` seconds in, then the checks: answers
 * within `boundMs`, only `whileDown` JSON errors while Postgres is away, recovery, and every
 * acknowledged write in the database.
 */
async function underFault({ name, details, downSeconds, boundMs, whileDown, interrupt }) {
  assert.ok(pgdata, 'scripts/load.sh sets LOAD_PGDATA');
  const rate = setting('FAULT_RATE', null, 12);
  const before = 6;
  const afterSeconds = 14;
  const seconds = before + downSeconds + afterSeconds;
  const total = Math.round(rate * seconds);
  const perKind = Math.ceil(total / 6);
  const run = runId();

  // Everything each kind of request needs, made before the run.
  const users = await pool([0, 1, 2, 3], 4, () => signedUpUser(undefined, 'fault-user'));
  const reader = users[0];
  const saved = await invoke(reader.client, 'save-connection', {
    body: { name: `${run}-read`, url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey },
  });
  assert.equal(saved.status, 201);
  const adminUser = users[1];
  sql(`update public.user_profiles set role = 'admin' where id = '${adminUser.user.id}'`);
  const owner = users[2];
  sql(`update public.user_profiles set credits = 100000 where id = '${owner.user.id}'`);
  const tasks = sql(`with made as (insert into public.segmentation_results (user_id, source_image_url, text_prompt)
    select '${owner.user.id}', 'https://images.example.test/f.png', '${run}' from generate_series(1, ${perKind}) returning id) select id from made`).map(([id]) => id);
  const people = sql(`with made as (insert into public.profiles (first_name, last_name, email, created_by)
    select 'Fault ' || g, '${run}', '${run}-' || g || '@example.test', '${adminUser.user.id}' from generate_series(1, ${2 * perKind}) g returning id) select id from made`).map(([id]) => id);
  // Half the profiles are invited by the run (create-invitation); the other half now, to be accepted.
  const toAccept = await pool(people.slice(perKind), 6, async (profileId) => {
    const answer = await invoke(adminUser.client, 'create-invitation', { body: { profile_id: profileId } });
    assert.equal(answer.status, 201);
    return answer.body.token;
  });

  const kinds = ['save-connection', 'tenant-proxy', 'process-webhook', 'create-invitation', 'guest-signup', 'accept-invitation'];
  const kindOf = (i) => kinds[i % 6];
  const slot = (i) => Math.floor(i / 6);
  const bearer = (u) => ({ Authorization: `Bearer ${u.session.access_token}` });
  const json = { 'content-type': 'application/json' };
  const request = (i) => {
    const k = slot(i);
    switch (kindOf(i)) {
      case 'save-connection':
        return { url: functionUrl('save-connection'), method: 'POST', headers: { ...json, ...bearer(users[k % 4]) },
          body: JSON.stringify({ name: `${run}-${i}`, url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey }) };
      case 'tenant-proxy':
        return { url: `${functionUrl('tenant-proxy')}/${run}-read/rest/v1/orders?select=customer&status=eq.paid&order=customer`,
          headers: { apikey: stack.anonKey, ...bearer(reader) } };
      case 'process-webhook':
        return delivery(tasks[k], `${run}-${i}`, { viaKey: k % 2 === 0 });
      case 'create-invitation':
        return { url: functionUrl('create-invitation'), method: 'POST', headers: { ...json, ...bearer(adminUser) },
          body: JSON.stringify({ profile_id: people[k] }) };
      case 'guest-signup':
        return { url: functionUrl('guest-signup'), method: 'POST',
          headers: { ...json, apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}`, 'cf-connecting-ip': `2001:db8:fa:${randomBytes(2).toString('hex')}::${k.toString(16)}` },
          body: JSON.stringify({ utm_campaign: run, utm_content: String(i) }) };
      case 'accept-invitation':
        return { url: functionUrl('accept-invitation'), method: 'POST', headers: json,
          body: JSON.stringify({ token: toAccept[k], password: `pw-${randomUUID()}` }) };
      default:
        throw new Error('unreachable');
    }
  };

  // The fault, on its own timeline, while the load runs.
  const timeline = {};
  const t0 = performance.now();
  const [[runStartedAt]] = sql('select now()');
  const at = () => Math.round(performance.now() - t0);
  const fault = (async () => {
    await sleep(before * 1000);
    await interrupt(timeline, at);
  })();
  const result = await openLoop({ rate, seconds, request, timeoutMs: boundMs + 5000 });
  await fault;
  // openLoop's times count from its own start, a moment after t0; put them on the fault's clock.
  const shift = result.startedAt - t0;
  const rows = result.results.map((r) => ({ ...r, sentAt: r.sentAt + shift, finishedAt: r.finishedAt + shift }));

  const summary = summarize(name, result);
  const down = rows.filter((r) => r.sentAt >= timeline.stopped_ms && r.finishedAt <= timeline.start_begin_ms);
  const downStatuses = {};
  for (const r of down) {
    const key = `${kindOf(r.i)} ${r.status} ${r.json?.code ?? r.error ?? ''}`.trim();
    downStatuses[key] = (downStatuses[key] ?? 0) + 1;
  }
  // Recovery: the first moment after the restart from which every request succeeded.
  let lastFailure = -1;
  rows.forEach((r, idx) => { if (!(r.status >= 200 && r.status < 300)) lastFailure = idx; });
  const firstGoodAfter = rows[lastFailure + 1];
  const recoveredMs = firstGoodAfter ? Math.max(0, Math.round(firstGoodAfter.sentAt - timeline.started_ms)) : null;
  const downLatencies = down.map((r) => r.ms).sort((a, b) => a - b);
  // Every request sent while Postgres was away, whenever its answer came.
  const sentWhileDown = rows.filter((r) => r.sentAt >= timeline.stopped_ms && r.sentAt <= timeline.start_begin_ms);
  const firstOkAfter = rows.filter((r) => r.status >= 200 && r.status < 300 && r.finishedAt >= timeline.started_ms)
    .sort((a, b) => a.finishedAt - b.finishedAt)[0];
  // Writes made but not acknowledged, that the flows' clean-up could not undo while the database
  // was away: anonymous accounts without their visitor, invitation accounts never linked.
  const [[orphanGuests, orphanInvitees]] = sql(`
    select (select count(*) from auth.users u where u.is_anonymous and u.created_at >= '${runStartedAt}'
              and not exists (select 1 from public.visitor v where v.auth_user_id = u.id)),
           (select count(*) from auth.users u where u.email like '${run}-%'
              and not exists (select 1 from public.profiles p where p.user_id = u.id))`);
  report({
    test: name, kind: 'fault', ...details, rate, seconds, requests: rows.length, statuses: summary.statuses,
    p50_ms: summary.p50_ms, p99_ms: summary.p99_ms, max_ms: summary.max_ms,
    timeline, postgres_down_ms: timeline.start_begin_ms - timeline.stop_begin_ms,
    while_down: { requests: down.length, answers: downStatuses, max_ms: Math.round(downLatencies.at(-1) ?? 0) },
    sent_while_down: { requests: sentWhileDown.length, longest_answer_ms: Math.round(Math.max(0, ...sentWhileDown.map((r) => r.ms))) },
    first_2xx_after_restart_ms: firstOkAfter ? Math.round(firstOkAfter.finishedAt - timeline.started_ms) : null,
    recovered_after_restart_ms: recoveredMs,
    unacknowledged_leftovers: { guest_accounts_without_visitor: Number(orphanGuests), invitation_accounts_not_linked: Number(orphanInvitees) },
  });

  // No hang, no crash, nothing but successes and 502/503 JSON errors.
  for (const r of rows) {
    assert.notEqual(r.status, 0, `request ${r.i} (${kindOf(r.i)}) failed at the network level: ${r.error}`);
    assert.ok(r.ms < boundMs, `request ${r.i} (${kindOf(r.i)}) took ${Math.round(r.ms)} ms`);
    if (r.status >= 200 && r.status < 300) continue;
    assert.ok(whileDown.includes(r.status), `request ${r.i} (${kindOf(r.i)}) answered ${r.status}: ${r.text?.slice(0, 300)}`);
    assert.equal(typeof r.json?.error, 'string', `a JSON error from ${kindOf(r.i)}: ${r.text?.slice(0, 300)}`);
    assert.equal(typeof r.json?.code, 'string');
  }
  assert.ok(sentWhileDown.length >= rate * (downSeconds - 2), `requests ran while Postgres was down (${sentWhileDown.length})`);
  for (const r of down) assert.ok(whileDown.includes(r.status), `${kindOf(r.i)} answered ${r.status} while Postgres was down`);
  assert.ok(alive(process.env.LOAD_DEVSTACK_PID), 'devstack is still running');
  assert.ok(alive(process.env.LOAD_FUNCTIONS_PID), 'wrangler dev is still running');
  assert.notEqual(recoveredMs, null, 'the functions recovered');
  assert.ok(firstGoodAfter.sentAt < rows.at(-1).sentAt - 5000, `every request of the last 5 s succeeded (recovered ${recoveredMs} ms after the restart)`);

  // Every acknowledged write is there.
  const acked = (kind) => rows.filter((r) => kindOf(r.i) === kind && r.status >= 200 && r.status < 300);
  const inList = (values) => values.map((v) => `'${v}'`).join(',') || 'null';
  const connections = acked('save-connection').map((r) => r.json.id);
  assert.equal(Number(sql(`select count(*) from public.connections where id in (${inList(connections)})`)[0][0]), connections.length, 'every saved connection');
  const doneTasks = acked('process-webhook').map((r) => r.json.task_id);
  const [[doneCount, logCount]] = sql(`select count(*) filter (where status = 'done'),
      (select count(*) from public.usage_logs where result_id in (${inList(doneTasks)}))
    from public.segmentation_results where id in (${inList(doneTasks)})`);
  assert.equal(Number(doneCount), doneTasks.length, 'every acknowledged webhook applied');
  assert.equal(Number(logCount), doneTasks.length, 'and charged once');
  const [[charged, balance]] = sql(`select (select count(*) from public.usage_logs u join public.segmentation_results r on r.id = u.result_id where r.text_prompt = '${run}'),
      (select credits from public.user_profiles where id = '${owner.user.id}')`);
  assert.equal(Number(balance), 100000 - Number(charged), 'the balance matches the ledger');
  const invitations = acked('create-invitation').map((r) => r.json.id);
  assert.equal(Number(sql(`select count(*) from public.profile_invitations where id in (${inList(invitations)}) and status = 'pending'`)[0][0]), invitations.length, 'every created invitation');
  const visitors = acked('guest-signup').map((r) => r.json.visitor_id);
  assert.equal(Number(sql(`select count(*) from public.visitor v join auth.users u on u.id = v.auth_user_id where v.visitor_id in (${inList(visitors)})`)[0][0]), visitors.length, 'every guest and its visitor');
  const accounts = acked('accept-invitation').map((r) => r.json.user_id);
  assert.equal(Number(sql(`select count(*) from public.profiles p join auth.users u on u.id = p.user_id where p.user_id in (${inList(accounts)})`)[0][0]), accounts.length, 'every accepted invitation\'s account, linked');
  console.log(`${name}: 0 acknowledged writes lost; checked: ${connections.length} connections, ${doneTasks.length} webhooks, ${invitations.length} invitations, ${visitors.length} guests, ${accounts.length} accepted invitations`);

  // After the run, a fresh request of each kind works (the stack is usable without restarts).
  const again = await send({ url: `${functionUrl('tenant-proxy')}/${run}-read/rest/v1/orders?select=customer&status=eq.paid&order=customer`, headers: { apikey: stack.anonKey, ...bearer(reader) } });
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, [{ customer: 'ada' }, { customer: 'margaret' }]);
}
