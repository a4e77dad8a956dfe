/**
 * A host identity per shard. As root, where `unshare` works, a shard runs in a network and UTS namespace of
 * its own: its own host name, its own loopback (brought up), no network path to the other shards or to the
 * host's loopback — it reaches Redis through the server's unix socket, as a separate machine would reach a
 * shared Redis. Elsewhere (not root, no unshare, no `ip`) shards are distinct process groups on this host,
 * said once on stderr. TESTWIRE_TEST_NETNS=0 forces process groups.
 *
 *   unshare -n -u -- sh -c '… hostname "$0" && ip link set lo up && exec "$@"' <hostname> <command> <args…>
 *
 * unshare without --fork execs in place, so the shard keeps the pid (and process group) it was spawned with.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';

// sbin appended: `ip` lives there, and a CI's PATH may not have it.
const SETUP = 'PATH="$PATH:/usr/sbin:/sbin" && hostname "$0" && ip link set lo up && exec "$@"';

function probe(): { namespaces: boolean; why: string } {
  if (process.env.TESTWIRE_TEST_NETNS === '0') return { namespaces: false, why: 'TESTWIRE_TEST_NETNS=0' };
  if (process.getuid?.() !== 0) return { namespaces: false, why: 'not root' };
  const name = 'testwire-probe';
  const result = spawnSync('unshare', ['-n', '-u', '--', 'sh', '-c', `${SETUP}`, name, 'hostname'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.status === 0 && result.stdout.trim() === name) return { namespaces: true, why: '' };
  const said = (result.error?.message ?? result.stderr ?? '').trim().split('\n')[0];
  return { namespaces: false, why: `unshare -n -u failed: ${said || `exit ${result.status}`}` };
}

let probed: { namespaces: boolean; why: string } | undefined;

/** True when shards run in network + UTS namespaces of their own (probed once, on first use, and said). */
export function namespaces(): boolean {
  if (!probed) {
    probed = probe();
    process.stderr.write(
      probed.namespaces
        ? 'tests/redis: each shard runs in its own network + UTS namespace (own host name, no loopback path to the others)\n'
        : `tests/redis: shards run as distinct process groups on this host (${probed.why}); host names are all ${hostname()}\n`,
    );
  }
  return probed.namespaces;
}

/** The command and arguments that run `command args` as host `name` (or as they are, without namespaces). */
export function onHost(name: string, command: string, args: string[]): [string, string[]] {
  if (!namespaces()) return [command, args];
  return ['unshare', ['-n', '-u', '--', 'sh', '-c', SETUP, name, command, ...args]];
}

/** The host name a shard started with `onHost(name, …)` reports. */
export function expectedHostname(name: string): string {
  return namespaces() ? name : hostname();
}
