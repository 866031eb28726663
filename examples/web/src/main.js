// The app shell: a session (a guest one on the first visit), the header, and a small router
// over the History API. Pages are modules exporting `render(ctx)` → an element.
import { supabase, currentSession } from './supabase.js';
import * as api from './api.js';
import { h } from './dom.js';
import * as home from './pages/home.js';
import * as signIn from './pages/sign-in.js';
import * as results from './pages/results.js';
import * as settings from './pages/settings.js';
import * as profiles from './pages/profiles.js';
import * as profile from './pages/profile.js';
import * as register from './pages/register.js';
import * as forgotPassword from './pages/forgot-password.js';
import * as resetPassword from './pages/reset-password.js';
import * as account from './pages/account.js';
import { consumeAuthRedirect, describeRedirect } from './auth-redirect.js';

const routes = [
  { path: /^\/$/, page: home, title: 'Home' },
  { path: /^\/sign-in$/, page: signIn, title: 'Sign in' },
  { path: /^\/results$/, page: results, title: 'My results' },
  { path: /^\/settings$/, page: settings, title: 'Settings' },
  { path: /^\/profiles$/, page: profiles, title: 'Profiles' },
  { path: /^\/profiles\/([0-9a-f-]{36})$/, page: profile, title: 'Profile' },
  { path: /^\/register\/([^/]+)$/, page: register, title: 'Register' },
  { path: /^\/forgot-password$/, page: forgotPassword, title: 'Forgot password' },
  { path: /^\/reset-password$/, page: resetPassword, title: 'New password' },
  { path: /^\/account$/, page: account, title: 'My account' },
];

const state = { session: null, account: null, guestError: null };
let leaving = [];
let renderCount = 0;

/** Reloads the session and the caller's account row (credits, role). */
async function refreshSession() {
  state.session = await currentSession();
  state.account = null;
  if (state.session) {
    try {
      state.account = await api.myAccount(state.session.user.id);
    } catch {
      // the header still shows the session; pages report their own errors
    }
  }
}

function isGuest() {
  return Boolean(state.session?.user?.is_anonymous);
}

function renderHeader(currentPath) {
  const links = [
    ['/', 'Home'],
    ['/results', 'My results'],
    ['/settings', 'Settings'],
  ];
  if (state.account && api.isAdminRole(state.account.role)) links.push(['/profiles', 'Profiles']);
  document.getElementById('nav').replaceChildren(
    ...links.map(([href, label]) => {
      const current = href === '/' ? currentPath === '/' : currentPath.startsWith(href);
      return h('a', { href, 'data-link': true, 'aria-current': current ? 'page' : null }, label);
    }),
  );
  const who = document.getElementById('who');
  if (!state.session) {
    who.replaceChildren(h('span', {}, 'Not signed in'), h('a', { href: '/sign-in', 'data-link': true }, 'Sign in'));
  } else if (isGuest()) {
    who.replaceChildren(
      h('span', { class: 'badge guest', 'data-testid': 'session-kind' }, 'Guest'),
      h('a', { href: '/sign-in', 'data-link': true }, 'Sign in or create an account'),
    );
  } else {
    const avatar = state.account?.avatar_url;
    who.replaceChildren(
      avatar ? h('img', { class: 'avatar', src: avatar, alt: '', width: 28, height: 28, 'data-testid': 'session-avatar' }) : null,
      state.account?.display_name ? h('span', { 'data-testid': 'session-name' }, state.account.display_name) : null,
      h('a', { href: '/account', 'data-link': true, 'data-testid': 'session-email' }, state.session.user.email),
      state.account ? h('span', { class: 'badge user', 'data-testid': 'session-kind' }, state.account.role) : null,
      h('button', { class: 'link', type: 'button', onclick: (e) => signOut(e.currentTarget) }, 'Sign out'),
    );
  }
}

async function signOut(button) {
  button.disabled = true;
  try {
    await api.signOut();
  } catch {
    // the local session is gone either way
  }
  localStorage.removeItem('visitor_id');
  await refreshSession();
  navigate('/', { replace: true, flash: 'You are signed out.' });
}

async function render({ flash } = {}) {
  const count = ++renderCount;
  for (const fn of leaving) fn();
  leaving = [];
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const route = routes.find((r) => r.path.test(path));
  renderHeader(path);
  const main = document.getElementById('page');
  if (!route) {
    document.title = 'Not found — Edge app';
    main.replaceChildren(
      h('h1', {}, 'Page not found'),
      h('p', {}, 'There is no page at this address. ', h('a', { href: '/', 'data-link': true }, 'Go to the start page'), '.'),
    );
    return;
  }
  document.title = `${route.title} — Edge app`;
  const ctx = {
    ...state,
    params: path.match(route.path).slice(1).map(decodeURIComponent),
    isGuest: isGuest(),
    flash,
    navigate,
    refresh: async () => {
      await refreshSession();
      renderHeader(path);
    },
    onLeave: (fn) => leaving.push(fn),
  };
  const el = await route.page.render(ctx);
  if (count !== renderCount) return; // a newer navigation won
  main.replaceChildren(el);
  main.focus({ preventScroll: true });
}

/** Client-side navigation; `flash` is a one-off message for the next page. */
export function navigate(to, { replace = false, flash } = {}) {
  if (replace) history.replaceState({}, '', to);
  else history.pushState({}, '', to);
  return render({ flash });
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
});
window.addEventListener('popstate', () => render());

// Another tab signing in or out, or a refreshed token, shows in the header. (No awaits on
// supabase inside the callback itself: supabase-js holds a lock while it runs.)
supabase.auth.onAuthStateChange((event) => {
  if (event === 'SIGNED_OUT' || event === 'USER_UPDATED') {
    setTimeout(async () => {
      await refreshSession();
      renderHeader(location.pathname.replace(/\/+$/, '') || '/');
    }, 0);
  }
});

/**
 * A stored session whose account is gone (deleted, or a reset local stack) is dropped here,
 * once, rather than failing every request later with "session no longer valid".
 */
async function dropStaleSession() {
  if (!(await currentSession())) return;
  const { error } = await supabase.auth.getUser();
  if (error && [401, 403, 404].includes(error.status)) await supabase.auth.signOut({ scope: 'local' });
}

// The app works before sign-in (seeds 000/001): a first visit gets a guest session and a
// visitor record. The register page is for someone about to get an account, so it starts none.
// A mailed link (confirmation, magic link, recovery, e-mail change) lands here with its session.
const linkOutcome = await consumeAuthRedirect();
await dropStaleSession();
await refreshSession();
if (!state.session && !location.pathname.startsWith('/register/') && !linkOutcome?.error) {
  try {
    await api.startGuest();
    await refreshSession();
  } catch (e) {
    state.guestError = e.message;
  }
}
await render({ flash: describeRedirect(linkOutcome) });
document.documentElement.dataset.ready = 'true';
