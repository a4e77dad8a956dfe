/**
 * Credentials out of anything that may be printed: a URL's `user:password@` and the values of its
 * credential query parameters (`apiKey`, `token`, …) become `***`. Works on text that is not a valid URL
 * too (an option's raw value in an error message), so it never throws and never lets a credential through
 * because the rest failed to parse.
 */

/** Query parameters whose values are credentials (case-insensitive). */
const CREDENTIAL_PARAMS =
  /([?&;](?:api[_-]?key|token|access[_-]?token|key|secret|password|auth)=)[^&#\s"'<>]*/gi;
/** `scheme://user:password@` or `scheme://user@`. */
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s"'<>]*@/gi;

/** `text` with every URL credential masked as `***`. Never throws. */
export function redactCredentials(text: string): string {
  return String(text).replace(USERINFO, '$1***@').replace(CREDENTIAL_PARAMS, '$1***');
}
