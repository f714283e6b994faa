import type { FigureName, Figures, GoalDef, RatioDef } from './registry.js';

/** Median, min and max of one figure over the runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median (mean of the middle two for an even count), min and max; undefined for no values. */
export function spread(values: readonly number[]): Spread | undefined {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return undefined;
  const sorted = [...finite].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

const figureNames: FigureName[] = ['rps', 'p50Ms', 'p95Ms', 'p99Ms', 'maxMs', 'bytesPerSec', 'seconds'];

/** Spreads of every figure present in the runs. */
export function summarize(runs: readonly Figures[]): Partial<Record<FigureName, Spread>> {
  const out: Partial<Record<FigureName, Spread>> = {};
  for (const name of figureNames) {
    const values = runs.map((run) => run[name]).filter((value): value is number => value !== undefined);
    const result = spread(values);
    if (result) out[name] = result;
  }
  return out;
}

/** A ratio as computed in a run. */
export interface RatioResult {
  of: string;
  to: string;
  figure: FigureName;
  value?: number;
  /** Min and max of the per-round ratios, when the value is their median. */
  range?: { min: number; max: number; n: number };
  goal?: { min?: number; max?: number };
  /** Whether the goal is met (absent without a goal or a value). */
  met?: boolean;
  /** `first`: the first round's pair alone. */
  round?: 'first';
  /** Why there is no value. */
  missing?: string;
}

function meets(value: number, goal: { min?: number; max?: number } | undefined): boolean | undefined {
  if (!goal) return undefined;
  if (goal.min !== undefined && value < goal.min) return false;
  if (goal.max !== undefined && value > goal.max) return false;
  return true;
}

/**
 * `of / to` on `figure`. With per-round figures, each round's pair (measured moments apart, in
 * alternation) gives a ratio and the value is their median, which resists load that drifts during a
 * run; otherwise (or without a complete pair) the ratio of the medians. A missing side gives `missing`.
 * With `round: 'first'`, the first round's pair alone (missing without it).
 */
export function ratio(
  def: RatioDef,
  figure: FigureName,
  medians: ReadonlyMap<string, number | undefined>,
  rounds?: ReadonlyMap<string, readonly (number | undefined)[]>,
): RatioResult {
  const base: RatioResult = { of: def.of, to: def.to, figure };
  if (def.goal) base.goal = def.goal;
  if (def.round === 'first') {
    base.round = 'first';
    const of = rounds?.get(def.of)?.[0];
    const to = rounds?.get(def.to)?.[0];
    if (of === undefined || to === undefined || to === 0) {
      const absent = [
        of === undefined ? def.of : undefined,
        to === undefined || to === 0 ? def.to : undefined,
      ]
        .filter(Boolean)
        .join(', ');
      return { ...base, missing: `no first-round figure for ${absent}` };
    }
    const met = meets(of / to, def.goal);
    return met === undefined ? { ...base, value: of / to } : { ...base, value: of / to, met };
  }
  const of = medians.get(def.of);
  const to = medians.get(def.to);
  if (of === undefined || to === undefined || to === 0) {
    const absent = [of === undefined ? def.of : undefined, to === undefined || to === 0 ? def.to : undefined]
      .filter(Boolean)
      .join(', ');
    return { ...base, missing: `no figure for ${absent}` };
  }
  const ofRounds = rounds?.get(def.of) ?? [];
  const toRounds = rounds?.get(def.to) ?? [];
  const paired: number[] = [];
  ofRounds.forEach((value, index) => {
    const other = toRounds[index];
    if (value !== undefined && other !== undefined && other !== 0) paired.push(value / other);
  });
  const pairs = spread(paired);
  const result: RatioResult = pairs
    ? { ...base, value: pairs.median, range: { min: pairs.min, max: pairs.max, n: pairs.n } }
    : { ...base, value: of / to };
  const met = meets(result.value!, def.goal);
  return met === undefined ? result : { ...result, met };
}

/** An absolute goal's outcome. */
export interface GoalResult extends GoalDef {
  figure: FigureName;
  value?: number;
  met?: boolean;
}

/** Checks an absolute goal against a median. */
export function goal(def: GoalDef, figure: FigureName, median: number | undefined): GoalResult {
  if (median === undefined) return { ...def, figure };
  return { ...def, figure, value: median, met: meets(median, def) ?? true };
}

/** Rotates `items` by `round` (round 0: as given): the order of alternation. */
export function alternate<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
