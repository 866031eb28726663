// `fetch` and `Response.text()` chained in JavaScript, so the Rust side awaits one promise per
// subrequest instead of two (each promise awaited from Rust costs wasm-bindgen two closures,
// a `then` and a microtask). Resolves to [status, text]; to [0, error] when the body could not
// be read; rejects when the request could not be sent (or its signal aborted it first).
export function fetchText(url, init) {
  return fetch(url, init).then((response) =>
    response.text().then(
      (text) => [response.status, text],
      (error) => [0, error],
    ),
  );
}
