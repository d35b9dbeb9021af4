/**
 * What every benchmark returns: figures, each with its goal and the anchor it is measured against,
 * so `npm run bench` prints one table (and `--json` the same rows for machines).
 */
export interface Figure {
  /** Which benchmark measured it (`worker`, `monorepo`, `launcher`, `cli`, `local`, `wait`). */
  readonly suite: string;
  /** What is measured, e.g. `tiny repo: worker overhead over the raw clone`. */
  readonly name: string;
  readonly value: number;
  /** `ms`, `KB`, `ratio`, `bytes`. */
  readonly unit: string;
  /** The goal, when the figure has one: the value must be at most (or at least) this. */
  readonly goal?: { readonly atMost?: number; readonly atLeast?: number };
  /** What the figure is measured against, with its own value: `git clone --depth 1: 908 ms`. */
  readonly anchor?: string;
  /** How it was measured: `median of 21, alternating`. */
  readonly how?: string;
}

export function meetsGoal(figure: Figure): boolean | undefined {
  const { goal } = figure;
  if (!goal) return undefined;
  if (goal.atMost !== undefined && figure.value > goal.atMost) return false;
  if (goal.atLeast !== undefined && figure.value < goal.atLeast) return false;
  return true;
}

function formatValue(value: number, unit: string): string {
  if (unit === 'ratio') return value.toFixed(3);
  if (unit === 'bytes') return `${(value / 1e6).toFixed(2)} MB`;
  if (unit === 'ms') return `${value.toFixed(1)} ms`;
  return `${value.toFixed(1)} ${unit}`;
}

function formatGoal(figure: Figure): string {
  const { goal, unit } = figure;
  if (!goal) return '';
  const parts: string[] = [];
  if (goal.atMost !== undefined)
    parts.push(`≤ ${unit === 'ratio' ? goal.atMost : formatValue(goal.atMost, unit)}`);
  if (goal.atLeast !== undefined)
    parts.push(`≥ ${unit === 'ratio' ? goal.atLeast : formatValue(goal.atLeast, unit)}`);
  return parts.join(', ');
}

/** One plain-text table, columns padded: suite, figure, value, goal, met, anchor, how. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = [
    ['suite', 'figure', 'value', 'goal', 'met', 'anchor', 'how'],
    ...figures.map((f) => {
      const met = meetsGoal(f);
      return [
        f.suite,
        f.name,
        formatValue(f.value, f.unit),
        formatGoal(f),
        met === undefined ? '' : met ? 'yes' : 'NO',
        f.anchor ?? '',
        f.how ?? '',
      ];
    }),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
