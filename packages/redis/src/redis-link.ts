/**
 * What `testwire serve --redis` knows of its Redis connection, said on its stderr (once per outage) and in its
 * `/status` (`source.redis`), the URL always without its credentials.
 *
 *   connecting ──error──> unreachable ──ready──> connected ──error──> unreachable ──ready──> connected …
 *        └─────────────────ready─────────────────────┘
 *
 * `joined` says whether serve has read the group's epoch from Redis yet: before that its endpoint is up and
 * serves nothing of the group (serve.ts binds it at once; the group's events come once Redis answers).
 */
import { errorText, permanentFailure, UNRESOLVED_HOST_FIX, unresolvedHost } from './connection.js';

export type RedisLinkState = 'connecting' | 'connected' | 'unreachable';

/** `/status` `source.redis`. */
export interface RedisLinkStatus {
  /** The Redis URL without user name, password or query. */
  url: string;
  state: RedisLinkState;
  /** Epoch ms (this machine's clock) since when the state holds. */
  since: number;
  /** True once serve read the group's epoch from Redis and follows the group's stream. */
  joined: boolean;
  /** While unreachable: the last error, redacted. */
  error?: string;
  /** While unreachable for a reason waiting will not cure: what to check. */
  fix?: string;
}

/** Why Redis refused serve for good: the error (redacted) and what to check. */
export interface RedisRefusal {
  error: string;
  fix: string;
}

export class RedisLink {
  private state: RedisLinkState = 'connecting';
  private since = Date.now();
  private lastError: string | undefined;
  private lastFix: string | undefined;
  /** The outage was said on stderr (once per outage, and again if what to fix changes). */
  private told = false;
  private joinedGroup = false;
  private refuse: (refusal: RedisRefusal) => void = () => {};
  /**
   * Resolves when Redis refused this serve, before it joined the group, for a reason waiting will not cure
   * (credentials, ACL rights, keys of another kind…: connection.ts permanentFailure): a serve that is a CI
   * job of its own (`--until-done`) ends on it rather than wait for the job's timeout. Pending otherwise.
   */
  readonly refused = new Promise<RedisRefusal>((resolve) => (this.refuse = resolve));

  constructor(
    /** The URL as it may be shown (redactUrl). */
    private readonly where: string,
    private readonly logger: { warn(message: string): void },
  ) {}

  get joined(): boolean {
    return this.joinedGroup;
  }

  /** A connection or command failed (the clients retry by themselves; the join loop retries its commands). */
  failed(error: unknown): void {
    const text = errorText(error);
    const permanent = permanentFailure(error);
    const fix = permanent ?? (unresolvedHost(error) ? UNRESOLVED_HOST_FIX : undefined);
    if (permanent && !this.joinedGroup) this.refuse({ error: text, fix: permanent });
    if (this.state !== 'unreachable') {
      this.state = 'unreachable';
      this.since = Date.now();
    }
    this.lastError = text;
    const fixChanged = fix !== this.lastFix;
    this.lastFix = fix;
    if (this.told && !fixChanged) return;
    this.told = true;
    const hint = fix ? ` (${fix})` : '';
    this.logger.warn(
      this.joinedGroup
        ? `testwire serve: Redis ${this.where} is not reachable: ${text}${hint}; retrying with backoff (the endpoint keeps serving what it has)`
        : `testwire serve: Redis ${this.where} is not reachable yet: ${text}${hint}; the endpoint serves meanwhile (no events of the group until Redis answers; /status says so under source.redis), retrying with backoff`,
    );
  }

  /** A client connected (its `ready`), or a command succeeded after a failure. */
  ready(): void {
    const wasDown = this.state === 'unreachable';
    if (this.state !== 'connected') {
      this.state = 'connected';
      this.since = Date.now();
    }
    this.lastError = undefined;
    this.lastFix = undefined;
    this.told = false;
    // Before the join, the join's own line says Redis answered.
    if (wasDown && this.joinedGroup) this.logger.warn(`testwire serve: Redis ${this.where} answers again`);
  }

  /** Serve read the group's epoch: it follows the group's stream from now on. */
  markJoined(): void {
    this.joinedGroup = true;
  }

  /**
   * `/health`'s component for the link: healthy once connected and following the group; degraded while
   * connecting or not joined yet; unhealthy while Redis does not answer or refuses.
   */
  health(): { name: string; status: 'healthy' | 'degraded' | 'unhealthy'; message: string } {
    const status =
      this.state === 'unreachable'
        ? 'unhealthy'
        : this.state === 'connected' && this.joinedGroup
          ? 'healthy'
          : 'degraded';
    const message =
      this.state === 'unreachable'
        ? `Redis ${this.where} is not reachable: ${this.lastError ?? 'no answer'}${this.lastFix ? ` (${this.lastFix})` : ''}`
        : this.joinedGroup
          ? `Redis ${this.where} ${this.state}`
          : `Redis ${this.where} ${this.state}, the group not read yet`;
    return { name: 'redis', status, message };
  }

  status(): RedisLinkStatus {
    return {
      url: this.where,
      state: this.state,
      since: this.since,
      joined: this.joinedGroup,
      ...(this.state === 'unreachable' && this.lastError ? { error: this.lastError } : {}),
      ...(this.state === 'unreachable' && this.lastFix ? { fix: this.lastFix } : {}),
    };
  }
}
