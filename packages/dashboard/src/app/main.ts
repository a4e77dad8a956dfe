/**
 * Page entry: read the endpoint and credentials from the page's own URL, start the dashboard.
 *
 *   http://127.0.0.1:7357/                 -> ws://127.0.0.1:7357/ws
 *   https://ci.example/testwire/?apiKey=k  -> wss://ci.example/testwire/ws?apiKey=k   (behind a proxy)
 *                                             the address bar then shows https://ci.example/testwire/
 */
import { Dashboard } from './dashboard.js';

const page = new URL(window.location.href);
const base = new URL('./', page);
base.search = '';
base.hash = '';

const apiKey = page.searchParams.get('apiKey') ?? undefined;
const token = page.searchParams.get('token') ?? undefined;
// Read once and kept in memory (the client sends it on every reconnect): out of the address bar, the
// history and anything copied from them.
if (apiKey !== undefined || token !== undefined) {
  const shown = new URL(page);
  shown.searchParams.delete('apiKey');
  shown.searchParams.delete('token');
  history.replaceState(history.state, '', shown);
}

const dashboard = new Dashboard({ url: base.toString(), apiKey, token });
dashboard.start();
