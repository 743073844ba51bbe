/** The shape of bench/results.json: written by bench/run.ts, read by bench/report.ts. */

/** One server measured on one scenario (medians over the rounds). */
export interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  /** CPU time (user + system) the server process spent per request, in µs. */
  cpuUs: number;
  non2xx: number;
  errors: number;
  /** req/s of each round, in order (absent from runs before 2026-12-07's second half). */
  roundRps?: number[];
}

/** One scenario: the app against both baselines. */
export interface ScenarioResult {
  scenario: string;
  app: Measurement;
  baseline: Measurement;
  baselineUncached: Measurement;
  /** The median of the rounds' ratios (app ÷ cached baseline, measured back to back in each round). */
  ratio: number;
  ratioUncached: number;
  p99Ratio: number;
  /** app ÷ cached baseline in each round (absent from earlier runs). */
  roundRatios?: number[];
}

export interface Results {
  date: string;
  commit: string;
  machine: { cpus: number; cpuModel?: string; memoryGb: number; node: string };
  /** processes: per server, each round on the next (absent from runs before 2026-12-07's evening: one). */
  settings: { connections: number; durationSeconds: number; rounds: number; processes?: number; dbPoolMax: number; growthPosts?: number };
  scenarios: ScenarioResult[];
  variants: Array<{
    variant: string;
    scenario: string;
    reference: Measurement;
    measured: Measurement;
    /** The median of the rounds' ratios (variant ÷ reference). */
    ratio: number;
    target: number | null;
    roundRatios?: number[];
  }>;
  growth: {
    posts10k: { p50: number };
    posts1M: { p50: number };
    p50Ratio1Mvs10k: number;
    page1: { p50: number };
    cursor500k: { p50: number };
  } | null;
  footprint: {
    startToReadyMs: number;
    rssIdleMb: number;
    rssAfterLoadMb: number;
    rssGrowth: number;
    /** The cached baseline's, at the same moments (absent from runs before 2026-12-07). */
    baselineRssIdleMb?: number;
    baselineRssAfterLoadMb?: number;
  };
  targets: Record<string, boolean | null>;
}
