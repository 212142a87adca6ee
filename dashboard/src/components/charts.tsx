// Small hand-written SVG charts. Each is an image with a title and a description that states its numbers,
// so a screen reader gets the same facts as the picture; colours are paired with labels, never alone.
import { useId } from 'react';

export interface Bar {
  label: string;
  value: number;
  /** What the bar's value reads as (e.g. "$12.00, 3 payments"). */
  text: string;
}

/** Horizontal bars, one per row, scaled to the largest value. */
export function BarChart({ title, bars }: { title: string; bars: readonly Bar[] }) {
  const id = useId();
  // The viewBox is about the width the chart is drawn at (a third of a laptop screen, a phone), so
  // its text stays readable.
  const rowHeight = 26;
  const width = 360;
  const labelWidth = 100;
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const height = Math.max(1, bars.length) * rowHeight + 8;
  const description =
    bars.length === 0 ? 'No data in this window.' : bars.map((bar) => `${bar.label}: ${bar.text}`).join('; ');
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-labelledby={`${id}-t ${id}-d`}
      preserveAspectRatio="xMinYMin meet"
    >
      <title id={`${id}-t`}>{title}</title>
      <desc id={`${id}-d`}>{description}</desc>
      {bars.length === 0 ? (
        <text x={8} y={20} className="chart-empty">
          No data in this window
        </text>
      ) : null}
      {bars.map((bar, index) => {
        const y = index * rowHeight + 4;
        const barWidth = ((width - labelWidth - 100) * bar.value) / max;
        return (
          <g key={bar.label}>
            <text x={0} y={y + 17} className="chart-label">
              {bar.label}
            </text>
            <rect
              x={labelWidth}
              y={y + 4}
              width={Math.max(2, barWidth)}
              height={rowHeight - 10}
              className="bar"
            />
            <text x={labelWidth + Math.max(2, barWidth) + 6} y={y + 17} className="chart-value">
              {bar.text}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export interface SeriesPoint {
  start: number;
  succeeded: number;
  declined: number;
  failed: number;
}

const PARTS = ['succeeded', 'declined', 'failed'] as const;

/** Stacked columns over time: succeeded, declined (the shopper's bank said no) and failed apart. */
export function OutcomeChart({ title, series }: { title: string; series: readonly SeriesPoint[] }) {
  const id = useId();
  const width = 360;
  const height = 150;
  // The scale's label sits above the plot, never over a column.
  const plotTop = 20;
  const plotHeight = height - 48;
  const max = Math.max(1, ...series.map((p) => p.succeeded + p.declined + p.failed));
  const slot = series.length > 0 ? width / series.length : width;
  const totals = PARTS.map((part) => `${part} ${series.reduce((sum, p) => sum + p[part], 0)}`).join(', ');
  return (
    <figure className="chart-figure">
      <svg
        className="chart"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby={`${id}-t ${id}-d`}
        preserveAspectRatio="xMinYMin meet"
      >
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{`Over ${series.length} intervals: ${totals}.`}</desc>
        <line x1={0} x2={width} y1={plotTop + plotHeight} y2={plotTop + plotHeight} className="axis" />
        <text x={0} y={height - 6} className="chart-label">
          {series[0] ? new Date(series[0].start * 1000).toISOString().slice(5, 16).replace('T', ' ') : ''}
        </text>
        <text x={width} y={height - 6} className="chart-label" textAnchor="end">
          {series.length > 0
            ? new Date((series[series.length - 1]?.start ?? 0) * 1000)
                .toISOString()
                .slice(5, 16)
                .replace('T', ' ')
            : ''}
        </text>
        <text x={width} y={12} className="chart-label" textAnchor="end">
          max {max}
        </text>
        {series.map((point, index) => {
          let top = plotTop + plotHeight;
          return (
            <g key={point.start}>
              {PARTS.map((part) => {
                const h = (plotHeight * point[part]) / max;
                top -= h;
                return h > 0 ? (
                  <rect
                    key={part}
                    x={index * slot + 1}
                    y={top}
                    width={Math.max(1, slot - 2)}
                    height={h}
                    className={`bar-${part}`}
                  />
                ) : null;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        <span className="key key-succeeded">succeeded</span>
        <span className="key key-declined">declined</span>
        <span className="key key-failed">failed</span>
      </figcaption>
    </figure>
  );
}

/** A rate as a filled meter, with its value written beside it. */
export function RateMeter({ title, rate }: { title: string; rate: number | null }) {
  const id = useId();
  const width = 200;
  const filled = rate === null ? 0 : Math.min(1, Math.max(0, rate)) * width;
  const text = rate === null ? 'no data' : `${(rate * 100).toFixed(1)}%`;
  return (
    <svg
      className="meter"
      viewBox={`0 0 ${width} 12`}
      preserveAspectRatio="none"
      role="img"
      aria-labelledby={`${id}-t`}
    >
      <title id={`${id}-t`}>{`${title}: ${text}`}</title>
      <rect x={0} y={0} width={width} height={12} className="meter-track" />
      <rect x={0} y={0} width={filled} height={12} className="meter-fill" />
    </svg>
  );
}
