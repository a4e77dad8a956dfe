/** What an SSE reader (in Node or in a page) reports about one stream, to the SseTester that opened it. */
export interface StreamCallbacks {
  open(): void;
  event(message: { event: string; data: string; id: string }): void;
  retry(ms: number): void;
  /** Exactly once: the stream ended (error undefined when the server closed it cleanly). */
  end(error?: Error): void;
}
