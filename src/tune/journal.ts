/**
 * The trials journal: `trials.jsonl` in the tuning folder, one JSON object per line: a header that
 * identifies the search, the plan once it is known, then one record per finished trial.
 *
 * Every write replaces the whole file atomically (write a temp file, fsync, rename), so an
 * interrupted search (SIGINT, crash, power loss) leaves the journal as it was after the last
 * finished trial. Resuming reads it back, checks that it belongs to the same search, and skips the
 * trials it holds; a trial is recorded only once it is finished, so an interrupted trial is rerun.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VigilError } from '../core/errors.js';
import type { HalvingPlan } from './schedule.js';
import type { JsonValue } from './space.js';
import type { ThresholdDecision } from './threshold-choice.js';

export const JOURNAL_FILE = 'trials.jsonl';
export const JOURNAL_VERSION = 1;

/** What makes two runs the same search (compared on resume). */
export interface SearchIdentity {
  detector: string;
  dataset: string;
  seed: number;
  eta: number;
  selection: string;
  metric: string;
  /** Canonical JSON of the resolved space, base settings and budget. */
  fingerprint: string;
}

export interface JournalHeader extends SearchIdentity {
  type: 'header';
  version: number;
  createdAt: string;
}

export interface PlanRecord {
  type: 'plan';
  plan: HalvingPlan;
  /** How the plan was sized ("27 trials", "20 min at 3.1 s per epoch"). */
  sizing: string;
}

export interface TrialRecord {
  type: 'trial';
  /** `c<config>@<resource>`: a configuration at a resource (the same trial whichever rung asks for it). */
  id: string;
  rung: number;
  configIndex: number;
  resource: number;
  /** The sampled settings (on top of the base settings). */
  settings: Record<string, JsonValue>;
  status: 'ok' | 'failed';
  /** Selection criterion, higher is better (NaN for failed trials, stored as null). */
  criterion: number | null;
  tieBreak: number | null;
  metrics: Record<string, number | null>;
  /** Wall time of the whole trial (train + score). */
  seconds: number;
  trainSeconds: number;
  epochs: number;
  /** The threshold method chosen for this trial's model (absent for failed trials). */
  threshold?: ThresholdDecision;
  error?: string;
  finishedAt: string;
}

export type JournalEntry = JournalHeader | PlanRecord | TrialRecord;

export function trialId(configIndex: number, resource: number): string {
  return `c${configIndex}@${resource}`;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const h = await fs.open(tmp, 'w');
    try {
      await h.writeFile(text);
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new VigilError('E_IO', `${file}: cannot write the trials journal (${(e as Error).message})`, { path: file }, { cause: e });
  }
}

/** Parses journal text; a malformed line is E_CONFIG naming the file and line. */
export function parseJournal(text: string, file: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new VigilError('E_CONFIG', `${file}:${i + 1}: not a JSON line (${(e as Error).message}); remove the line or start afresh with --fresh`, { path: file, line: i + 1 });
    }
    const t = (v as { type?: unknown })?.type;
    if (t !== 'header' && t !== 'plan' && t !== 'trial') throw new VigilError('E_CONFIG', `${file}:${i + 1}: unknown journal entry type ${JSON.stringify(t)}`, { path: file, line: i + 1 });
    out.push(v as JournalEntry);
  });
  if (out.length > 0 && out[0]!.type !== 'header') throw new VigilError('E_CONFIG', `${file}: the first line is not the journal header`, { path: file });
  return out;
}

export class TrialJournal {
  private entries: JournalEntry[];
  private trials = new Map<string, TrialRecord>();

  private constructor(
    readonly file: string,
    entries: JournalEntry[],
    /** Whether earlier trials were found (a resumed search). */
    readonly resumed: boolean,
  ) {
    this.entries = entries;
    for (const e of entries) if (e.type === 'trial') this.trials.set(e.id, e);
  }

  /**
   * Opens the journal in `dir` for the search `identity`: resumes it when it exists and belongs to
   * the same search, starts it otherwise. `fresh` discards an existing journal. A journal of another
   * search is E_CONFIG naming what differs.
   */
  static async open(dir: string, identity: SearchIdentity, opts: { fresh?: boolean } = {}): Promise<TrialJournal> {
    await fs.mkdir(dir, { recursive: true }).catch((e: Error) => {
      throw new VigilError('E_IO', `${dir}: cannot create the tuning folder (${e.message})`, { path: dir });
    });
    const file = path.join(dir, JOURNAL_FILE);
    let text: string | null = null;
    if (!opts.fresh) {
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new VigilError('E_IO', `${file}: cannot read (${(e as Error).message})`, { path: file });
      }
    }
    if (text !== null && text.trim() !== '') {
      const entries = parseJournal(text, file);
      const header = entries[0] as JournalHeader;
      const differs = (Object.keys(identity) as (keyof SearchIdentity)[]).filter((k) => header[k] !== identity[k]);
      if (differs.length > 0) {
        const what = differs.map((k) => (k === 'fingerprint' ? 'search space / settings / budget' : `${k} (${JSON.stringify(header[k])} there, ${JSON.stringify(identity[k])} now)`));
        throw new VigilError('E_CONFIG', `${file} belongs to another search: ${what.join(', ')} differ; pass --fresh to discard it, or use another --out`, {
          path: file,
          differs,
        });
      }
      return new TrialJournal(file, entries, entries.some((e) => e.type === 'trial'));
    }
    const header: JournalHeader = { type: 'header', version: JOURNAL_VERSION, createdAt: new Date().toISOString(), ...identity };
    const j = new TrialJournal(file, [header], false);
    await j.flush();
    return j;
  }

  get plan(): PlanRecord | null {
    return (this.entries.find((e) => e.type === 'plan') as PlanRecord | undefined) ?? null;
  }

  get records(): TrialRecord[] {
    return [...this.trials.values()];
  }

  get(id: string): TrialRecord | undefined {
    return this.trials.get(id);
  }

  has(id: string): boolean {
    return this.trials.has(id);
  }

  /** Seconds spent by the recorded trials (counts against a time budget on resume). */
  get secondsSpent(): number {
    return this.records.reduce((s, r) => s + r.seconds, 0);
  }

  async setPlan(plan: PlanRecord): Promise<void> {
    if (this.plan) throw new VigilError('E_CONFIG', `${this.file}: the plan is already recorded`);
    this.entries.push(plan);
    await this.flush();
  }

  async add(record: TrialRecord): Promise<void> {
    if (this.trials.has(record.id)) throw new VigilError('E_CONFIG', `${this.file}: trial ${record.id} is already recorded`);
    this.entries.push(record);
    this.trials.set(record.id, record);
    await this.flush();
  }

  private async flush(): Promise<void> {
    await writeAtomic(this.file, this.entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }
}
