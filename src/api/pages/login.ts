const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The sign-in form: no script, nothing from another host. */
export function loginPage(o: { next: string; error?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Tock</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}
main{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:2rem;width:min(24rem,90vw)}
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;font-weight:600;margin-bottom:.4rem}
input{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #8a94a6;border-radius:4px;font:inherit}
button{margin-top:1rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#1f5fbf;color:#fff;font:inherit;cursor:pointer}
p.error{color:#a3141e}p.hint{color:#4a5466;font-size:.9rem}
</style>
</head>
<body>
<main>
<h1>Sign in to Tock</h1>
${o.error ? `<p class="error" role="alert">${escape(o.error)}</p>` : ''}
<form method="post" action="/ui/session">
<label for="apiKey">API key</label>
<input id="apiKey" name="apiKey" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escape(o.next)}">
<button type="submit">Sign in</button>
</form>
<p class="hint">Use an API key (in development, the one in <code>.data/admin-key</code>). Bull Board needs the <code>admin</code> scope.</p>
</main>
</body>
</html>
`;
}
