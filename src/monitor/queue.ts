/**
 * A serial work queue: jobs run one at a time in arrival order. The service keeps one per model so
 * that a stream's points are scored in order even when requests overlap, and so that images queued
 * meanwhile can be scored together in one batch.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Jobs queued or running. */
  get depth(): number {
    return this.waiting;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(job);
    this.tail = result.then(
      () => {
        this.waiting--;
      },
      () => {
        this.waiting--;
      },
    );
    return result;
  }

  /** Resolves once every job queued so far has finished. */
  async drain(): Promise<void> {
    await this.tail;
  }
}

/**
 * Collects items submitted while a batch is being processed and hands them to `process` together
 * (up to `maxBatch` at a time), resolving each submitter with its own result. Keeps a single worker,
 * so batches run one after another.
 */
export class MicroBatcher<I, R> {
  private pending: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly process: (items: I[]) => Promise<R[]>,
    private readonly maxBatch: number,
  ) {}

  get depth(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  /** Queues one request's items and starts the worker if idle; resolves with their results in order. */
  run(items: I[]): Promise<R[]> {
    const done = Promise.all(items.map((item) => new Promise<R>((resolve, reject) => this.pending.push({ item, resolve, reject }))));
    if (!this.running) void this.work();
    return done;
  }

  private async work(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          const results = await this.process(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(results[i]!));
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
