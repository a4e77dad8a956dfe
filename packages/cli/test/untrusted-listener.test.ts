/**
 * Keys go to a loopback endpoint only when its port is held by a process of this OS user: `status --api-key`
 * and a runner's reporter publishing to TESTWIRE_URL with TESTWIRE_PUBLISH_KEY, against a port held by
 * another user (root only). (watch and tail connect through @testwire/client, tested there.)
 */
import {
  canRunAsAnotherUser,
  NOBODY,
  type OtherUsersListener,
  otherUsersListener,
} from '@testwire-tests/support/other-user';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, runMocha } from './helpers.js';

beforeAll(assertBuilt);

const KEY = 'cli-key-16180339';
const held: OtherUsersListener[] = [];
afterEach(() => {
  for (const listener of held.splice(0)) listener.kill();
});

describe.runIf(canRunAsAnotherUser)("a loopback port held by another user's process", () => {
  it('status --api-key: exit 3, says whose the port is, sends nothing', async () => {
    const port = await otherUsersListener();
    held.push(port);
    const out = await cli(['status', '--url', `http://127.0.0.1:${port.port}`, '--api-key', KEY]);
    await port.drained();
    expect(port.lines.filter((line) => line.includes(KEY))).toEqual([]);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain(`listening on 127.0.0.1:${port.port} runs as another user (uid ${NOBODY};`);
    expect(out.stderr + out.stdout).not.toContain(KEY);
  });

  it("a mocha run publishing to TESTWIRE_URL there with TESTWIRE_PUBLISH_KEY: the key never reaches it, the run's exit code is mocha's, and it says why", async () => {
    const port = await otherUsersListener();
    held.push(port);
    const out = await runMocha(`http://127.0.0.1:${port.port}`, { env: { TESTWIRE_PUBLISH_KEY: KEY } });
    await port.drained();
    expect(port.lines.filter((line) => line.includes(KEY))).toEqual([]);
    // mocha's own exit code: the fixture's 'divides' fails on purpose.
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toContain(`the process listening on 127.0.0.1:${port.port} runs as another user`);
    expect(out.stderr + out.stdout).not.toContain(KEY);
  });
});
