// My results (seed 002): the caller's segmentation tasks, credits and usage, read through RLS.
// The inference backend reports progress to process-webhook; this page follows it live with
// Supabase Realtime (`postgres_changes` on segmentation_results, which is in the
// supabase_realtime publication; RLS decides which rows reach whom). Realtime does not replay
// what happened while the socket was down, so every (re)subscription reloads once; only while
// the socket fails does the page fall back to polling every 2 seconds.
import * as api from '../api.js';
import { supabase } from '../supabase.js';
import { busy, clear, field, formatDate, h, messageBox, onValidSubmit, show } from '../dom.js';

const POLL_MS = 2000;

export function render(ctx) {
  if (!ctx.session) {
    return h('section', {}, h('h1', {}, 'My results'), h('div', { class: 'card' }, h('p', {}, 'Start a guest session or ', h('a', { href: '/sign-in', 'data-link': true }, 'sign in'), ' to see your results.')));
  }
  const credits = h('div', { class: 'stat', 'data-testid': 'credits' }, '…');
  const tier = h('span', { class: 'badge' }, '');
  const held = h('span', { 'data-testid': 'credits-held' }, '');
  const tableBody = h('tbody', { 'data-testid': 'results-body' });
  const usageBody = h('tbody', {});
  const updated = h('span', { class: 'muted small', 'data-testid': 'refreshed' }, '');
  const live = h('span', { class: 'badge', 'data-testid': 'live-state', role: 'status' }, 'connecting…');
  const loadMsg = messageBox('results-load-message');
  let results = [];
  let usage = [];

  function draw() {
    tableBody.replaceChildren(...(results.length ? results.map(resultRow) : [emptyRow(6, 'No tasks yet: file one above.')]));
    usageBody.replaceChildren(...(usage.length ? usage.map(usageRow) : [emptyRow(4, 'Nothing charged yet.')]));
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  /** Everything, from /rest/v1: on arrival, after each (re)subscription, and when polling. */
  async function refresh() {
    try {
      const [r, u] = await Promise.all([api.myResults(), api.myUsage(), refreshAccount()]);
      [results, usage] = [r, u];
      clear(loadMsg);
      draw();
    } catch (e) {
      show(loadMsg, 'error', `Could not load your results: ${e.message}`);
    }
  }

  /** Credits and usage are not in the publication: read again when a task is charged. */
  async function refreshAccount() {
    const account = await api.myAccount(ctx.session.user.id);
    credits.textContent = String(account.credits);
    held.textContent = account.credits_reserved ? ` · ${account.credits_reserved} held for tasks still running` : '';
    tier.textContent = `${account.tier} plan`;
  }

  /** A change as Realtime delivers it: the row itself, applied without asking the API. */
  async function apply(change) {
    if (change.eventType === 'DELETE') {
      results = results.filter((r) => r.id !== change.old.id);
    } else {
      results = [change.new, ...results.filter((r) => r.id !== change.new.id)]
        .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
        .slice(0, 50);
    }
    draw();
    if (change.eventType === 'UPDATE' && change.new.charged_at) {
      try {
        [usage] = await Promise.all([api.myUsage(), refreshAccount()]);
        draw();
      } catch (e) {
        show(loadMsg, 'error', `Could not load your credits: ${e.message}`);
      }
    }
  }

  let timer = null;
  let left = false;
  const stopPolling = () => {
    clearTimeout(timer);
    timer = null;
  };
  const poll = async () => {
    if (document.visibilityState === 'visible') await refresh();
    timer = setTimeout(poll, POLL_MS);
  };
  const channel = supabase
    .channel(`my-results-${ctx.session.user.id}`)
    .on('postgres_changes', { event: '*', schema: 'public', table: 'segmentation_results', filter: `user_id=eq.${ctx.session.user.id}` }, apply);
  // The join must carry the user's token (RLS decides what reaches us): settle it first.
  const subscribe = () => channel.subscribe((status) => {
    if (left) return;
    if (status === 'SUBSCRIBED') {
      live.textContent = 'live';
      live.className = 'badge done';
      stopPolling();
      refresh();
    } else {
      live.textContent = `offline (${status.toLowerCase().replace('_', ' ')}) · refreshing every ${POLL_MS / 1000} s`;
      live.className = 'badge error';
      if (!timer) poll();
    }
  });
  supabase.realtime.setAuth().finally(() => left || subscribe());
  ctx.onLeave(() => {
    left = true;
    stopPolling();
    supabase.removeChannel(channel);
  });
  const isLive = () => channel.state === 'joined';
  refresh();

  return h(
    'section',
    {},
    h('h1', {}, 'My results'),
    loadMsg,
    h(
      'div',
      { class: 'grid2' },
      h('div', { class: 'card' }, h('h2', {}, 'Credits'), credits, h('p', { class: 'muted small' }, tier, ' · one credit per finished segmentation, held when the task is filed', held)),
      taskCard(refresh, isLive),
    ),
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'row' }, h('h2', { style: 'flex:1' }, 'Segmentation tasks'), live, ' ', updated),
      h('table', {}, h('thead', {}, h('tr', {}, ...['Task', 'Prompt', 'Status', 'Mask', 'Labels', 'Charged'].map((t) => h('th', {}, t)))), tableBody),
      h(
        'p',
        { class: 'muted small' },
        'Developers: mark a task done with ',
        h('code', {}, 'cargo run -p process-webhook --example send-webhook -- --dev-vars .dev.vars --task <id> --status done'),
        '.',
      ),
    ),
    h('div', { class: 'card' }, h('h2', {}, 'Usage'), h('table', {}, h('thead', {}, h('tr', {}, ...['When', 'Action', 'Credits', 'Task'].map((t) => h('th', {}, t)))), usageBody)),
  );
}

function taskCard(refresh, isLive) {
  const msg = messageBox('task-message');
  const submit = h('button', { type: 'submit' }, 'File task');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'New segmentation task' },
    field('Image URL', { name: 'source_image_url', type: 'url', placeholder: 'https://images.example.com/cat.png' }),
    field('What to segment', { name: 'text_prompt', placeholder: 'the cat' }),
    msg,
    submit,
  );
  onValidSubmit(form, msg, {
    source_image_url: (v) => {
      if (!v) return 'Enter the address of the image.';
      try {
        const url = new URL(v);
        if (!['https:', 'http:'].includes(url.protocol)) return 'The address must start with https://.';
      } catch {
        return 'Enter a full address, like https://images.example.com/cat.png.';
      }
      return v.length > 2048 ? 'The address is too long (2048 characters at most).' : null;
    },
    text_prompt: (v) => (v.length > 2000 ? 'Keep the prompt under 2000 characters.' : null),
  }, async (values) => {
    try {
      const task = await busy(submit, 'Filing…', () => api.fileTask({ source_image_url: values.source_image_url, text_prompt: values.text_prompt || null }));
      form.reset();
      show(msg, 'ok', `Task filed (${task.id.slice(0, 8)}…). It shows as pending until the backend reports on it.`);
      // Live, the INSERT arrives through Realtime; offline, read it back.
      if (!isLive()) await refresh();
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return h('div', { class: 'card' }, h('h2', {}, 'New task'), form);
}

function resultRow(r) {
  const labels = Array.isArray(r.labels) ? r.labels.map((l) => (typeof l === 'object' && l ? l.label ?? JSON.stringify(l) : String(l))).join(', ') : '';
  const charged = r.credits_charged === null ? '—' : `${r.credits_charged}${r.credits_shortfall ? ` (${r.credits_shortfall} short)` : ''}`;
  return h(
    'tr',
    { 'data-task-id': r.id },
    h('td', {}, h('code', { title: r.id }, r.id), h('div', { class: 'muted small' }, formatDate(r.created_at))),
    h('td', {}, r.text_prompt ?? h('span', { class: 'muted' }, '—')),
    h('td', {}, h('span', { class: `badge ${r.status}`, 'data-testid': 'status' }, r.status), r.error ? h('div', { class: 'field-error' }, r.error) : null),
    h('td', {}, r.mask_image_url ? h('a', { href: r.mask_image_url, target: '_blank', rel: 'noopener noreferrer' }, 'mask') : '—'),
    h('td', { 'data-testid': 'labels' }, labels || '—'),
    h('td', { 'data-testid': 'charged' }, charged),
  );
}

function usageRow(u) {
  return h('tr', {}, h('td', {}, formatDate(u.created_at)), h('td', {}, u.action), h('td', {}, String(u.credits_used)), h('td', {}, u.result_id ? h('code', {}, `${u.result_id.slice(0, 8)}…`) : '—'));
}

function emptyRow(span, text) {
  return h('tr', {}, h('td', { colspan: span, class: 'empty' }, text));
}
