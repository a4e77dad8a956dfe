/**
 * Why the broadcaster refused the page: no key, a wrong key, or too many wrong keys. A browser cannot read
 * the body of a refused WebSocket, so the page asks `/status` with the same credentials and reads the
 * broadcaster's JSON answer (`{error: 'UNAUTHORIZED' | 'LOCKED_OUT', message}`; a missing credential says
 * "Authentication required").
 */
export type AuthProblemKind = 'missing' | 'wrong' | 'locked';

export interface AuthProblem {
  kind: AuthProblemKind;
  label: string;
  detail: string;
}

const HOW = 'the TESTWIRE_API_KEY of the test run';

/** Classifies the broadcaster's answer; `sentCredentials` decides when the answer says too little. */
export function classifyAuthAnswer(
  body: { error?: unknown; message?: unknown } | undefined,
  sentCredentials: boolean,
): AuthProblem {
  const code = typeof body?.error === 'string' ? body.error : '';
  const message = typeof body?.message === 'string' ? body.message : '';
  if (code === 'LOCKED_OUT')
    return {
      kind: 'locked',
      label: 'Locked out',
      detail: `${message || 'too many wrong keys from this address'}`,
    };
  const missing = message ? /required/i.test(message) : !sentCredentials;
  return missing
    ? {
        kind: 'missing',
        label: 'API key needed',
        detail: `this endpoint needs a key: open the page with ?apiKey=<key> (${HOW})`,
      }
    : {
        kind: 'wrong',
        label: 'Wrong API key',
        detail: `the broadcaster refused the key in this page's URL (${message || 'invalid key'}); use ${HOW}`,
      };
}

/** Asks `<base>/status` with the page's credentials what is wrong with them. */
export async function authProblemOf(
  base: string,
  credentials: { apiKey?: string; token?: string },
  fetchImpl: typeof fetch = fetch,
): Promise<AuthProblem> {
  const url = new URL('status', base.endsWith('/') ? base : `${base}/`);
  if (credentials.apiKey) url.searchParams.set('apiKey', credentials.apiKey);
  if (credentials.token) url.searchParams.set('token', credentials.token);
  const sent = Boolean(credentials.apiKey || credentials.token);
  try {
    const res = await fetchImpl(url, { cache: 'no-store' });
    const body = (await res.json().catch(() => undefined)) as
      | { error?: unknown; message?: unknown }
      | undefined;
    return classifyAuthAnswer(body, sent);
  } catch {
    return classifyAuthAnswer(undefined, sent);
  }
}
