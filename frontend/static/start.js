// Starts the dashboard: loads the wasm app. A file of its own, not an inline script, so
// that the Content Security Policy allows scripts from the site itself only.
import init from "/dashboard.js";
init({ module_or_path: "/dashboard_bg.wasm" });
