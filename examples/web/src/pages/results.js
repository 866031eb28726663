// My results (seed 002): the caller's segmentation tasks, credits and usage, read through RLS.
// The inference backend reports progress to process-webhook; this page follows it live with
// Supabase Realtime (`postgres_changes` on segmentation_results, which is in the
// supabase_realtime publication; RLS decides which rows reach whom). Realtime does not replay
// what happened while the socket was down, so every (re)subscription reloads once; only while
// the socket fails does the page fall back to polling every 2 seconds.
// An image is uploaded to Storage (`images/<user id>/…`, checked against the bucket's types and
// size first, with progress) and the task names it by path (`source_image_path`); the mask the
// backend puts in `masks` is drawn over the image, both read through the user's own session.
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
  const thumbs = new Map();
  const viewer = maskViewer();
  const actions = { cancel, remove, view: (task) => viewer.open(task) };

  function draw() {
    tableBody.replaceChildren(...(results.length ? results.map((r) => resultRow(r, thumbs, actions)) : [emptyRow(8, 'No tasks yet: file one above.')]));
    usageBody.replaceChildren(...(usage.length ? usage.map(usageRow) : [emptyRow(4, 'Nothing charged yet.')]));
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    loadThumbnails();
  }

  /** Signed URLs for the uploaded images not signed yet, in one request. */
  async function loadThumbnails() {
    const missing = [...new Set(results.map((r) => r.source_image_path).filter((p) => p && !thumbs.has(p)))];
    if (!missing.length) return;
    for (const path of missing) thumbs.set(path, null);
    try {
      const urls = await api.imageUrls(missing);
      for (const [path, url] of urls) thumbs.set(path, url);
      for (const img of tableBody.querySelectorAll('img[data-path]')) {
        if (!img.src && thumbs.get(img.dataset.path)) img.src = thumbs.get(img.dataset.path);
      }
    } catch {
      for (const path of missing) thumbs.delete(path);
    }
  }

  async function cancel(task, button) {
    try {
      await busy(button, 'Cancelling…', () => api.cancelTask(task.id));
      if (!isLive()) await refresh();
    } catch (e) {
      show(loadMsg, 'error', `Could not cancel the task: ${e.message}`);
    }
  }

  /** A finished task goes with its files (the uploaded image stays while another task uses it). */
  async function remove(task, button) {
    const keepImage = results.some((r) => r.id !== task.id && r.source_image_path && r.source_image_path === task.source_image_path);
    try {
      await busy(button, 'Deleting…', () => api.deleteTask(task, { keepImage }));
      results = results.filter((r) => r.id !== task.id);
      viewer.forget(task.id);
      draw();
    } catch (e) {
      show(loadMsg, 'error', `Could not delete the task: ${e.message}`);
    }
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
      viewer.forget(change.old.id);
    } else {
      viewer.update(change.new);
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
  /** The task just uploaded: its mask shows when done (maybe already, on a fast backend). */
  const filed = (id) => {
    viewer.follow(id);
    const known = results.find((r) => r.id === id);
    if (known) viewer.update(known);
  };
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
      uploadCard(ctx.session.user.id, refresh, isLive, filed),
    ),
    viewer.card,
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'row' }, h('h2', { style: 'flex:1' }, 'Segmentation tasks'), live, ' ', updated),
      h('table', {}, h('thead', {}, h('tr', {}, ...['Image', 'Task', 'Prompt', 'Status', 'Mask', 'Labels', 'Charged', ''].map((t) => h('th', {}, t)))), tableBody),
      h(
        'p',
        { class: 'muted small' },
        'Uploaded images are segmented by the inference backend (scripts/dev.sh runs the reference one). Developers: mark a URL task done by hand with ',
        h('code', {}, 'cargo run -p process-webhook --example send-webhook -- --dev-vars .dev.vars --task <id> --status done'),
        '.',
      ),
    ),
    taskCard(refresh, isLive),
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
  return h('div', { class: 'card' }, h('h2', {}, 'New task from an image URL'), form);
}

const MIB = 1024 * 1024;
const megabytes = (bytes) => `${Math.round((bytes / MIB) * 10) / 10} MB`;

/**
 * Upload and segment: a file from the picker or dropped on the zone is checked against the
 * `images` bucket's types and size (read from Storage; the bucket still decides), uploaded with
 * progress, and filed as a task naming its path.
 */
function uploadCard(userId, refresh, isLive, filed) {
  const msg = messageBox('upload-message');
  const limits = api.imagesBucket();
  const picker = h('input', { type: 'file', id: 'f-image', name: 'image', accept: 'image/png,image/jpeg,image/webp' });
  const chosen = h('span', { class: 'muted small', 'data-testid': 'chosen-file' }, 'No image chosen.');
  const zone = h('div', { class: 'dropzone', 'data-testid': 'dropzone', tabindex: '0' }, h('p', {}, 'Drop an image here, or '), h('label', { for: 'f-image', class: 'linkish' }, 'choose one'), picker, ' ', chosen);
  const prompt = field('What to segment', { name: 'upload_prompt', placeholder: 'the cat' });
  const progress = h('progress', { max: '100', value: '0', hidden: true, 'data-testid': 'upload-progress', 'aria-label': 'Upload progress' });
  const submit = h('button', { type: 'submit' }, 'Upload and segment');
  let file = null;

  limits.then((bucket) => {
    if (bucket?.allowed_mime_types?.length) picker.accept = bucket.allowed_mime_types.join(',');
  });

  async function choose(candidate) {
    clear(msg);
    file = null;
    chosen.textContent = 'No image chosen.';
    if (!candidate) return;
    const problem = problemWith(candidate, await limits);
    if (problem) {
      show(msg, 'error', problem);
      picker.value = '';
      return;
    }
    file = candidate;
    chosen.textContent = `${candidate.name} (${megabytes(candidate.size)})`;
  }
  picker.addEventListener('change', () => choose(picker.files[0]));
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const files = e.dataTransfer?.files ?? [];
    if (files.length > 1) return show(msg, 'error', 'Drop one image at a time.');
    choose(files[0]);
  });

  const form = h('form', { novalidate: true, 'aria-label': 'Upload an image' }, zone, prompt, progress, msg, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(msg);
    if (!file) return show(msg, 'error', 'Choose an image first (PNG, JPEG or WebP).');
    const textPrompt = form.elements.namedItem('upload_prompt').value.trim();
    if (textPrompt.length > 2000) return show(msg, 'error', 'Keep the prompt under 2000 characters.');
    progress.hidden = false;
    progress.value = 0;
    try {
      const task = await busy(submit, 'Uploading…', async () => {
        const path = await api.uploadImage(userId, file, (sent, total) => {
          progress.value = total ? Math.round((sent / total) * 100) : 0;
        });
        progress.value = 100;
        return api.fileTask({ source_image_path: path, text_prompt: textPrompt || null });
      }, [picker]);
      form.reset();
      await choose(null);
      show(msg, 'ok', `Uploaded; task filed (${task.id.slice(0, 8)}…). Its mask shows below when it is ready.`);
      filed(task.id);
      if (!isLive()) await refresh();
    } catch (e) {
      show(msg, 'error', e.message);
    } finally {
      progress.hidden = true;
    }
  });
  return h('div', { class: 'card' }, h('h2', {}, 'New task'), form);
}

/** Why `file` cannot go to the bucket, in words, or null. */
function problemWith(file, bucket) {
  const types = bucket?.allowed_mime_types ?? ['image/png', 'image/jpeg', 'image/webp'];
  if (!types.includes(file.type)) return `${file.name} is not a PNG, JPEG or WebP image, so it cannot be segmented.`;
  const limit = bucket?.file_size_limit;
  if (limit && file.size > limit) return `${file.name} is too large (${megabytes(file.size)}); images can be at most ${megabytes(limit)}.`;
  if (file.size === 0) return `${file.name} is empty.`;
  return null;
}

/**
 * The selected task's image with its mask drawn over it (the mask's 255 pixels tinted, its 0
 * pixels clear) and an opacity slider. Follows the task just uploaded until its mask is there.
 */
function maskViewer() {
  const title = h('h2', {}, 'Mask');
  const note = h('p', { class: 'muted small', 'data-testid': 'mask-note' }, 'Choose "View" on a finished task, or upload an image: its mask shows here.');
  const image = h('canvas', { class: 'mask-base', 'data-testid': 'mask-image' });
  const overlay = h('canvas', { class: 'mask-overlay', 'data-testid': 'mask-overlay', 'data-state': 'empty' });
  const slider = h('input', { type: 'range', min: '0', max: '100', value: '60', id: 'f-opacity', 'aria-label': 'Mask opacity' });
  const stage = h('div', { class: 'mask-stage', hidden: true }, image, overlay);
  const controls = h('div', { class: 'row', hidden: true }, h('label', { for: 'f-opacity' }, 'Mask opacity'), slider);
  slider.addEventListener('input', () => (overlay.style.opacity = String(slider.value / 100)));
  overlay.style.opacity = '0.6';
  let following = null;
  let shown = null;

  async function open(task) {
    following = null;
    shown = task.id;
    overlay.dataset.state = 'loading';
    note.textContent = 'Loading the image and its mask…';
    try {
      const [picture, mask] = await Promise.all([
        api.downloadFile('images', task.source_image_path).then(createImageBitmap),
        api.downloadFile('masks', task.mask_path).then(createImageBitmap),
      ]);
      if (shown !== task.id) return;
      paint(image, picture);
      paintMask(overlay, mask);
      stage.hidden = false;
      controls.hidden = false;
      overlay.dataset.state = 'ready';
      const regions = Array.isArray(task.labels) ? task.labels.length : 0;
      note.textContent = `${task.text_prompt ?? 'Task'} · image ${picture.width} × ${picture.height}, mask ${mask.width} × ${mask.height}` +
        ` · ${regions} region${regions === 1 ? '' : 's'}${task.metadata?.algorithm ? ` (${task.metadata.algorithm})` : ''}`;
    } catch (e) {
      overlay.dataset.state = 'error';
      note.textContent = e.message;
    }
  }

  return {
    card: h('div', { class: 'card', 'data-testid': 'mask-viewer' }, title, note, stage, controls),
    open,
    /** Shows this task's mask as soon as it is done (the task just uploaded). */
    follow(id) {
      following = id;
      note.textContent = 'Waiting for the mask…';
    },
    update(task) {
      if (task.id === following && task.status === 'done' && task.mask_path && task.source_image_path) open(task);
      else if (task.id === following && ['error', 'cancelled'].includes(task.status)) {
        following = null;
        note.textContent = task.status === 'error' ? `The task failed: ${task.error ?? 'no reason given'}` : 'The task was cancelled.';
      }
    },
    forget(id) {
      if (shown !== id) return;
      shown = null;
      stage.hidden = true;
      controls.hidden = true;
      overlay.dataset.state = 'empty';
      note.textContent = 'The task was deleted.';
    },
  };
}

function paint(canvas, bitmap) {
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
}

/** The mask in one colour, its grey level as the alpha (255: a region, 0: clear). */
function paintMask(canvas, bitmap) {
  paint(canvas, bitmap);
  const ctx = canvas.getContext('2d');
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const d = pixels.data;
  for (let i = 0; i < d.length; i += 4) {
    const level = d[i];
    d[i] = 236;
    d[i + 1] = 32;
    d[i + 2] = 120;
    d[i + 3] = level;
  }
  ctx.putImageData(pixels, 0, 0);
}

function resultRow(r, thumbs, actions) {
  const labels = Array.isArray(r.labels) ? r.labels.map((l) => (typeof l === 'object' && l ? l.label ?? JSON.stringify(l) : String(l))).join(', ') : '';
  const charged = r.credits_charged === null ? '—' : `${r.credits_charged}${r.credits_shortfall ? ` (${r.credits_shortfall} short)` : ''}`;
  const open = ['pending', 'processing'].includes(r.status);
  const button = (label, run) => {
    const b = h('button', { type: 'button', class: 'small secondary' }, label);
    b.addEventListener('click', () => run(r, b));
    return b;
  };
  let mask = '—';
  if (r.mask_path && r.source_image_path) mask = button('View', (task) => actions.view(task));
  else if (r.mask_image_url) mask = h('a', { href: r.mask_image_url, target: '_blank', rel: 'noopener noreferrer' }, 'mask');
  const thumb = r.source_image_path
    ? h('img', { class: 'thumb', alt: 'the uploaded image', 'data-path': r.source_image_path, src: thumbs.get(r.source_image_path) || null })
    : h('span', { class: 'muted small' }, 'URL');
  return h(
    'tr',
    { 'data-task-id': r.id },
    h('td', {}, thumb),
    h('td', {}, h('code', { title: r.id }, r.id), h('div', { class: 'muted small' }, formatDate(r.created_at))),
    h('td', {}, r.text_prompt ?? h('span', { class: 'muted' }, '—')),
    h('td', {}, h('span', { class: `badge ${r.status}`, 'data-testid': 'status' }, r.status), r.error ? h('div', { class: 'field-error' }, r.error) : null),
    h('td', {}, mask),
    h('td', { 'data-testid': 'labels' }, labels || '—'),
    h('td', { 'data-testid': 'charged' }, charged),
    h('td', {}, open ? button('Cancel', actions.cancel) : button('Delete', actions.remove)),
  );
}

function usageRow(u) {
  return h('tr', {}, h('td', {}, formatDate(u.created_at)), h('td', {}, u.action), h('td', {}, String(u.credits_used)), h('td', {}, u.result_id ? h('code', {}, `${u.result_id.slice(0, 8)}…`) : '—'));
}

function emptyRow(span, text) {
  return h('tr', {}, h('td', { colspan: span, class: 'empty' }, text));
}
