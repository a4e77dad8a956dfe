/** Version of this package, reported in `/status`, `/health` and `connection.established`. Kept equal to package.json (tested). */
export const VERSION = '0.1.0';
