/**
 * Page entry: read the endpoint and credentials from the page's own URL, start the dashboard.
 *
 *   http://127.0.0.1:7357/                 -> ws://127.0.0.1:7357/ws
 *   https://ci.example/testwire/?apiKey=k  -> wss://ci.example/testwire/ws?apiKey=k   (behind a proxy)
 */
import { Dashboard } from './dashboard.js';

const page = new URL(window.location.href);
const base = new URL('./', page);
base.search = '';
base.hash = '';

const dashboard = new Dashboard({
  url: base.toString(),
  apiKey: page.searchParams.get('apiKey') ?? undefined,
  token: page.searchParams.get('token') ?? undefined,
});
dashboard.start();
